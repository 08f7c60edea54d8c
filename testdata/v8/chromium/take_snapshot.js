// Writes a heap snapshot of a page as Chromium writes one, with DOM nodes and their detachedness:
//
//     node take_snapshot.js CHROMIUM PAGE.html OUT.heapsnapshot
//
// Chromium runs headless and is driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
// JSON messages ended by a NUL byte, Chromium reading fd 3 and writing fd 4), so no port or WebSocket
// is involved. The page is opened, its load awaited, garbage collected, and the snapshot's chunks
// written to OUT as HeapProfiler.takeHeapSnapshot streams them.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { pathToFileURL } = require("url");

const [chromium, page, out] = process.argv.slice(2);
if (!chromium || !page || !out) {
  console.error("usage: node take_snapshot.js CHROMIUM PAGE.html OUT.heapsnapshot");
  process.exit(2);
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "heapgraph-chromium-"));
const browser = spawn(
  chromium,
  ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
   "--disable-extensions", "--remote-debugging-pipe", `--user-data-dir=${profile}`, "about:blank"],
  { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
);
let stderr = "";
browser.stderr.on("data", (d) => { stderr += d; });
const toBrowser = browser.stdio[3];
const fromBrowser = browser.stdio[4];

let nextId = 1;
const pending = new Map();
const listeners = [];
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
      for (const listener of listeners) listener(message);
    }
  }
});

function send(method, params = {}, sessionId) {
  const id = nextId++;
  const message = { id, method, params };
  if (sessionId) message.sessionId = sessionId;
  toBrowser.write(JSON.stringify(message) + "\0");
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}

function fail(error) {
  console.error(`take_snapshot.js: ${error.message}\n${stderr}`);
  browser.kill("SIGKILL");
  fs.rmSync(profile, { recursive: true, force: true });
  process.exit(1);
}

const deadline = setTimeout(() => fail(new Error("Chromium did not answer within 60 s")), 60000);
browser.on("error", fail);
browser.on("exit", (code, signal) => {
  if (pending.size) fail(new Error(`Chromium exited (${code ?? signal}) before answering`));
});

async function main() {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  await send("Page.enable", {}, sessionId);
  const loaded = new Promise((resolve) => listeners.push((m) => {
    if (m.sessionId === sessionId && m.method === "Page.loadEventFired") resolve();
  }));
  await send("Page.navigate", { url: pathToFileURL(path.resolve(page)).href }, sessionId);
  await loaded;
  await send("HeapProfiler.enable", {}, sessionId);
  await send("HeapProfiler.collectGarbage", {}, sessionId);
  const file = fs.openSync(out, "w");
  listeners.push((m) => {
    if (m.sessionId === sessionId && m.method === "HeapProfiler.addHeapSnapshotChunk") {
      fs.writeSync(file, m.params.chunk);
    }
  });
  await send("HeapProfiler.takeHeapSnapshot", { reportProgress: false }, sessionId);
  fs.closeSync(file);
  const exited = new Promise((resolve) => browser.on("exit", resolve));
  await send("Browser.close");
  await exited; // its profile directory is in use until then
}

main().then(
  () => {
    clearTimeout(deadline);
    fs.rmSync(profile, { recursive: true, force: true });
  },
  fail,
);
