// Opens a `heapgraph report` page in headless Chromium, uses it as a person would, and prints what it saw
// as JSON:
//
//     node drive_report.js CHROMIUM REPORT.html
//
// Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages ended
// by a NUL byte, Chromium reading fd 3 and writing fd 4). Every request the page makes is recorded (a
// self-contained page makes none but its own file), and so are script exceptions and console errors.
// Clicks and keys go through Input.dispatch*, at the places where the page drew what is clicked.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { pathToFileURL } = require("url");

const [chromium, page] = process.argv.slice(2);
if (!chromium || !page) {
  console.error("usage: node drive_report.js CHROMIUM REPORT.html");
  process.exit(2);
}
const pageUrl = pathToFileURL(path.resolve(page)).href;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "heapgraph-report-"));
const browser = spawn(
  chromium,
  ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
   "--disable-extensions", "--remote-debugging-pipe", `--user-data-dir=${profile}`,
   "--window-size=1200,900", "about:blank"],
  { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
);
let stderr = "";
browser.stderr.on("data", (d) => { stderr += d; });
const toBrowser = browser.stdio[3];
const fromBrowser = browser.stdio[4];

let nextId = 1;
const pending = new Map();
const events = [];
const waiters = [];
let buffered = Buffer.alloc(0);
fromBrowser.on("data", (data) => {
  buffered = Buffer.concat([buffered, data]);
  let end;
  while ((end = buffered.indexOf(0)) >= 0) {
    const message = JSON.parse(buffered.subarray(0, end).toString("utf8"));
    buffered = buffered.subarray(end + 1);
    if (message.id !== undefined && pending.has(message.id)) {
      const { resolve, reject, method } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(`${method}: ${JSON.stringify(message.error)}`));
      else resolve(message.result);
    } else {
      events.push(message);
      for (const w of waiters.splice(0)) w();
    }
  }
});

let session;
function send(method, params = {}) {
  const id = nextId++;
  const message = { id, method, params };
  if (session) message.sessionId = session;
  toBrowser.write(JSON.stringify(message) + "\0");
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}

async function until(method) {
  while (!events.some((e) => e.method === method)) {
    await new Promise((resolve) => waiters.push(resolve));
  }
}

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

// Ends Chromium, and once it is gone (it writes its profile until then) removes the profile.
function finish(status) {
  browser.once("exit", () => {
    fs.rmSync(profile, { recursive: true, force: true });
    process.exit(status);
  });
  browser.kill("SIGKILL");
}

function fail(error) {
  console.error(`drive_report.js: ${error.message}\n${stderr}`);
  finish(1);
}

const deadline = setTimeout(() => fail(new Error("Chromium did not answer within 60 s")), 60000);
browser.on("error", fail);

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
  ({ sessionId: session } = await send("Target.attachToTarget", { targetId, flatten: true }));
  await send("Page.enable");
  await send("Runtime.enable");
  await send("Network.enable");
  await send("Log.enable");
  await send("Page.navigate", { url: pageUrl });
  await until("Page.loadEventFired");

  const seen = {};
  seen.ready = await evaluate(`document.documentElement.getAttribute("data-report-ready")`);
  // Milliseconds from the start of navigation to the end of the load event (the page's script included).
  seen.loadMs = await evaluate(`performance.getEntriesByType("navigation")[0].loadEventEnd`);
  seen.scriptError = await evaluate(`(document.getElementById("script-error") || {}).textContent || null`);
  seen.suspects = await evaluate(`Array.from(document.querySelectorAll("#suspects article h3")).map((h) => h.textContent)`);
  seen.fixMarks = await evaluate(`Array.from(document.querySelectorAll("#suspects li.fix code.via")).map((c) => c.textContent)`);
  seen.growth = await evaluate(`Array.from(document.querySelectorAll("#growth article h3")).map((h) => h.textContent)`);
  seen.icicle = await evaluate(icicleState);

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
  process.stdout.write(JSON.stringify(seen) + "\n", () => finish(0));
}

main().catch(fail);
