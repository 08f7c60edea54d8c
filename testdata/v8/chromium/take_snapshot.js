// Writes a heap snapshot of a page as Chromium writes one, with DOM nodes and their detachedness:
//
//     node take_snapshot.js CHROMIUM PAGE.html OUT.heapsnapshot
//
// Chromium runs headless and is driven over the DevTools protocol on a pipe
// (testdata/report/devtools_pipe.js), so no port or WebSocket is involved. The page is opened, its load
// awaited, garbage collected, and the snapshot's chunks written to OUT as HeapProfiler.takeHeapSnapshot
// streams them.
"use strict";
const fs = require("fs");
const path = require("path");
const { pathToFileURL } = require("url");
const { launch } = require("../../report/devtools_pipe");

const [chromium, page, out] = process.argv.slice(2);
if (!chromium || !page || !out) {
  console.error("usage: node take_snapshot.js CHROMIUM PAGE.html OUT.heapsnapshot");
  process.exit(2);
}

const browser = launch(chromium, []);
const fail = (error) => browser.fail("take_snapshot.js", error);
setTimeout(() => fail(new Error("Chromium did not answer within 180 s")), 180000).unref();

async function main() {
  const { targetId } = await browser.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await browser.send("Target.attachToTarget", { targetId, flatten: true });
  browser.session = sessionId;
  await browser.send("Page.enable");
  await browser.send("Page.navigate", { url: pathToFileURL(path.resolve(page)).href });
  await browser.until("Page.loadEventFired");
  await browser.send("HeapProfiler.enable");
  await browser.send("HeapProfiler.collectGarbage");
  const file = fs.openSync(out, "w");
  browser.listeners.push((m) => {
    if (m.method !== "HeapProfiler.addHeapSnapshotChunk") return false;
    fs.writeSync(file, m.params.chunk);
    return true;
  });
  await browser.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  fs.closeSync(file);
}

main().then(() => browser.finish(0), fail);
