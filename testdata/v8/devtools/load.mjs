// Loads a heap snapshot with DevTools' heap snapshot worker code, as the front end does: the file is fed
// to DevTools' own loader in chunks, as the front end streams it. DevTools runs its second worker over a
// MessageChannel; here both ends live in this thread, as DevTools' createJSHeapSnapshotForTesting does.
// BUNDLE is front_end/entrypoints/heap_snapshot_worker of the chrome-devtools-frontend npm package,
// bundled by esbuild (install.sh makes it).
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

export async function loadSnapshot(bundle, snapshotFile) {
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
  return snapshot;
}
