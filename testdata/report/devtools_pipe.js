// Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages
// ended by a NUL byte, Chromium reading fd 3 and writing fd 4), so no port or WebSocket is involved.
//
//     const browser = require("./devtools_pipe").launch(CHROMIUM, ["--window-size=1200,900"]);
//     const result = await browser.send("Target.createTarget", { url: "about:blank" });
//
// Messages that answer no request (events) are kept in `events`, in order, unless one of `listeners`
// returns true for it (a stream of chunks need not be kept); `until(method)` waits for the first of a kind. `finish(status)` ends Chromium, removes its profile once it is gone and exits.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

function launch(chromium, extraArgs) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "heapgraph-chromium-"));
  const child = spawn(
    chromium,
    ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
     "--disable-extensions", "--remote-debugging-pipe", `--user-data-dir=${profile}`, ...extraArgs,
     "about:blank"],
    // Its own process group, so that finishing kills its helper processes with it.
    { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"], detached: true },
  );
  const browser = { events: [], listeners: [], stderr: "", session: undefined };
  child.stderr.on("data", (d) => { browser.stderr += d; });
  const pending = new Map();
  const waiters = [];
  let nextId = 1;
  let buffered = Buffer.alloc(0);
  child.stdio[4].on("data", (data) => {
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
      } else if (!browser.listeners.some((listener) => listener(message))) {
        browser.events.push(message);
        for (const w of waiters.splice(0)) w();
      }
    }
  });

  // Sends a command, to the attached page when `browser.session` is set.
  browser.send = (method, params = {}) => {
    const id = nextId++;
    const message = { id, method, params };
    if (browser.session) message.sessionId = browser.session;
    child.stdio[3].write(JSON.stringify(message) + "\0");
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
  };
  browser.until = async (method) => {
    while (!browser.events.some((e) => e.method === method)) {
      await new Promise((resolve) => waiters.push(resolve));
    }
  };
  browser.finish = (status) => {
    child.once("exit", () => {
      // A helper process killed with the group may still be flushing into the profile for a moment:
      // retry the removal while the directory fills under it (ENOTEMPTY).
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      process.exit(status);
    });
    process.kill(-child.pid, "SIGKILL");
  };
  browser.fail = (name, error) => {
    console.error(`${name}: ${error.message}\n${browser.stderr}`);
    browser.finish(1);
  };
  child.on("error", (error) => browser.fail("chromium", error));
  return browser;
}

module.exports = { launch };
