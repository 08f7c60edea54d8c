// Chrome DevTools' own Summary of a heap snapshot, computed by DevTools' heap snapshot worker code run
// under Node: every class row's name, count, self size and retained size, as JSON on stdout.
//   node summary.mjs WORKER_BUNDLE.mjs SNAPSHOT
import { loadSnapshot } from './load.mjs';

const [bundle, snapshotFile] = process.argv.slice(2);
const snapshot = await loadSnapshot(bundle, snapshotFile);
const rows = Object.values(snapshot.aggregatesWithFilter({})).map((a) => ({
  name: a.name,
  count: a.count,
  self: a.self,
  retained: a.maxRet,
}));
rows.sort((a, b) => b.retained - a.retained || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
process.stdout.write(JSON.stringify(rows) + '\n');
