// Chrome DevTools' own Summary of a heap snapshot, computed by DevTools' heap snapshot worker code run
// under Node: every class row's name, count, self size and retained size, as JSON on stdout.
//   node summary.mjs WORKER_BUNDLE.mjs SNAPSHOT
// The bundle is front_end/entrypoints/heap_snapshot_worker of the chrome-devtools-frontend npm package,
// bundled by esbuild (install.sh makes it). The snapshot is fed to DevTools' own loader in chunks, as the
// front end streams it. DevTools runs its second worker over a MessageChannel; here both ends live in
// this thread, as DevTools' createJSHeapSnapshotForTesting does.
import { createReadStream } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';

// Node 20 lacks Promise.withResolvers (Node 22 has it), which DevTools uses.
Promise.withResolvers ??= function withResolvers() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

const [bundle, snapshotFile] = process.argv.slice(2);
const { HeapSnapshot, HeapSnapshotLoader } = await import(bundle);
// No dispatcher: progress goes nowhere, as in DevTools' tests.
const loader = new HeapSnapshotLoader.HeapSnapshotLoader(undefined);
for await (const chunk of createReadStream(snapshotFile, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
  loader.write(chunk);
}
loader.close();
const channel = new MessageChannel();
new HeapSnapshot.SecondaryInitManager(channel.port2);
const snapshot = await loader.buildSnapshot(channel.port1);
channel.port1.close();
channel.port2.close();
const rows = Object.values(snapshot.aggregatesWithFilter({})).map((a) => ({
  name: a.name,
  count: a.count,
  self: a.self,
  retained: a.maxRet,
}));
rows.sort((a, b) => b.retained - a.retained || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
process.stdout.write(JSON.stringify(rows) + '\n');
