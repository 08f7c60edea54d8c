// Opens a `heapgraph report` page in headless Chromium, uses it as a person would, and prints what it saw
// as JSON:
//
//     node drive_report.js CHROMIUM REPORT.html
//
// Chromium is driven over the DevTools protocol on a pipe (`devtools_pipe.js`). Every request the page
// makes is recorded (a self-contained page makes none but its own file), and so are script exceptions and
// console errors.
// Clicks and keys go through Input.dispatch*, at the places where the page drew what is clicked.
"use strict";
const path = require("path");
const { pathToFileURL } = require("url");
const { launch } = require("./devtools_pipe");

const [chromium, page] = process.argv.slice(2);
if (!chromium || !page) {
  console.error("usage: node drive_report.js CHROMIUM REPORT.html");
  process.exit(2);
}
const pageUrl = pathToFileURL(path.resolve(page)).href;

const browser = launch(chromium, ["--window-size=1200,900"]);
const { send, events } = browser;

// The value of `expression` in the page (it must be JSON-serializable).
async function evaluate(expression) {
  const { result, exceptionDetails } = await send("Runtime.evaluate", { expression, returnByValue: true });
  if (exceptionDetails) throw new Error(`${expression}: ${JSON.stringify(exceptionDetails)}`);
  return result.value;
}

// A real mouse click at the middle of the first element `selector` matches.
async function click(selector) {
  const box = await evaluate(`(() => {
    const e = document.querySelector(${JSON.stringify(selector)});
    e.scrollIntoView({ block: "center" });
    const r = e.getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  })()`);
  for (const type of ["mousePressed", "mouseReleased"]) {
    await send("Input.dispatchMouseEvent", { type, x: box.x, y: box.y, button: "left", clickCount: 1 });
  }
}

async function key(name, code) {
  for (const type of ["rawKeyDown", "keyUp"]) {
    await send("Input.dispatchKeyEvent", { type, key: name, code: name, windowsVirtualKeyCode: code });
  }
}

const fail = (error) => browser.fail("drive_report.js", error);
const deadline = setTimeout(() => fail(new Error("Chromium did not answer within 60 s")), 60000);

// What the dominator view shows: the zoomed-into box and the trail above it.
const icicleState = `({
  trail: Array.from(document.querySelectorAll("#icicle-trail button")).map((b) => b.textContent),
  focus: document.querySelector("#icicle .cell.focus").getAttribute("aria-label"),
  cells: document.querySelectorAll("#icicle .cell").length,
  detail: document.getElementById("icicle-detail").textContent,
})`;
// The rows of the types table a reader sees, in order: [type, count].
const typeRows = `Array.from(document.querySelectorAll("#types-table tbody tr"))
  .filter((r) => !r.hidden)
  .map((r) => [r.cells[0].getAttribute("data-v"), Number(r.cells[1].getAttribute("data-v"))])`;

async function main() {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  ({ sessionId: browser.session } = await send("Target.attachToTarget", { targetId, flatten: true }));
  await send("Page.enable");
  await send("Runtime.enable");
  await send("Network.enable");
  await send("Log.enable");
  await send("Page.navigate", { url: pageUrl });
  await browser.until("Page.loadEventFired");

  const seen = {};
  seen.ready = await evaluate(`document.documentElement.getAttribute("data-report-ready")`);
  // Milliseconds from the start of navigation to the end of the load event (the page's script included).
  seen.loadMs = await evaluate(`performance.getEntriesByType("navigation")[0].loadEventEnd`);
  seen.title = await evaluate(`document.title`);
  seen.scriptError = await evaluate(`(document.getElementById("script-error") || {}).textContent || null`);
  seen.suspects = await evaluate(`Array.from(document.querySelectorAll("#suspects article:not(.proven) h3")).map((h) => h.textContent)`);
  seen.proven = await evaluate(`Array.from(document.querySelectorAll("#suspects article.proven h3")).map((h) => h.textContent)`);
  seen.factMarks = await evaluate(`Array.from(document.querySelectorAll("#suspects article:not(.proven) .fact-mark")).map((m) => m.textContent)`);
  seen.fixMarks = await evaluate(`Array.from(document.querySelectorAll("#suspects li.fix code.via")).map((c) => c.textContent)`);
  seen.growth = await evaluate(`Array.from(document.querySelectorAll("#growth article h3")).map((h) => h.textContent)`);
  seen.typeGrowth = await evaluate(`Array.from(document.querySelectorAll("#type-growth tbody tr"))
    .map((r) => [r.cells[0].textContent, Number(r.cells[2].getAttribute("data-v"))])`);
  seen.icicle = await evaluate(icicleState);
  seen.accumulations = await evaluate(`Array.from(document.querySelectorAll("#icicle .cell.accumulation"))
    .map((g) => g.getAttribute("aria-label"))`);

  // Zoom into the biggest child of the roots, then into its biggest child, then out with Escape and by
  // clicking the zoomed-into box.
  await click("#icicle .cell:not(.focus):not(.folded)");
  seen.zoomedOnce = await evaluate(icicleState);
  await click("#icicle .cell:not(.focus):not(.folded)");
  seen.zoomedTwice = await evaluate(icicleState);
  await key("Escape", 27);
  seen.escaped = await evaluate(icicleState);
  await click("#icicle .cell.focus");
  seen.clickedOut = await evaluate(icicleState);
  // From the keyboard: the picture's one Tab stop, down to the biggest box, Enter.
  seen.tabStops = await evaluate(`document.querySelectorAll("#icicle [tabindex='0']").length`);
  await evaluate(`document.querySelector("#icicle [tabindex='0']").focus()`);
  await key("ArrowDown", 40);
  await key("Enter", 13);
  seen.enteredOnce = await evaluate(icicleState);

  // The types table: sorted by count (most first), then filtered.
  seen.typesFirst = await evaluate(typeRows);
  await click("#types-table th:nth-child(2) button");
  seen.byCount = await evaluate(typeRows);
  seen.filterWord = seen.byCount[0][0].slice(-4);
  await click("#types-filter");
  await send("Input.insertText", { text: seen.filterWord });
  seen.filtered = await evaluate(typeRows);
  seen.filteredNote = await evaluate(`document.getElementById("types-shown").textContent`);

  // A type's name opens its retainer tree.
  seen.retainersOpenBefore = await evaluate(`document.querySelectorAll("details.retainers[open]").length`);
  await evaluate(`document.getElementById("types-filter").value = ""; document.getElementById("types-filter").dispatchEvent(new Event("input"))`);
  await click("#types-table tbody td a");
  seen.retainersOpened = await evaluate(`Array.from(document.querySelectorAll("details.retainers[open] summary .type")).map((s) => s.textContent)`);

  seen.requests = events
    .filter((e) => e.method === "Network.requestWillBeSent")
    .map((e) => e.params.request.url)
    .filter((url) => url !== pageUrl && !url.startsWith(pageUrl + "#"));
  seen.exceptions = events
    .filter((e) => e.method === "Runtime.exceptionThrown")
    .map((e) => e.params.exceptionDetails.exception?.description || e.params.exceptionDetails.text);
  seen.consoleErrors = events
    .filter((e) => e.method === "Runtime.consoleAPICalled" && ["error", "warning", "assert"].includes(e.params.type))
    .map((e) => e.params.args.map((a) => a.value ?? a.description).join(" "));
  seen.logErrors = events
    .filter((e) => e.method === "Log.entryAdded" && e.params.entry.level === "error")
    .map((e) => e.params.entry.text);

  clearTimeout(deadline);
  process.stdout.write(JSON.stringify(seen) + "\n", () => browser.finish(0));
}

main().catch(fail);
