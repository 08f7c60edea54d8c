// Three heap snapshots of one process, for `heapgraph suspects OLD NEW NEWER`:
//   node testdata/v8/make_growth_fixture.js leak|churn OUT_PREFIX [STEP]
// Both modes keep a session cache (a Map) bounded to 500 entries and churn it before every snapshot: 500
// new sessions under new keys evict as many, and a burst of short-lived garbage comes and goes. In `leak`
// mode globalThis.holder, a LeakHolder, also gets STEP (default 1000) more Leaky objects in its Map `items`
// before every snapshot. Writes OUT_PREFIX.1.heapsnapshot to OUT_PREFIX.3.heapsnapshot; prints one JSON
// line: the files and how many Leaky objects the holder had at each.
const v8 = require('v8');

class Leaky {
  constructor(i) {
    this.id = i;
    this.payload = new Array(10).fill(i);
  }
}
class LeakHolder {
  constructor() {
    this.items = new Map();
  }
}
class Session {
  constructor(user) {
    this.user = user;
    this.seen = [user, user + 1];
  }
}

const [mode, prefix, stepArg] = process.argv.slice(2);
if (mode !== 'leak' && mode !== 'churn') throw new Error(`mode ${mode}: leak or churn`);
const step = Number(stepArg || 1000);
const LIMIT = 500;
globalThis.holder = new LeakHolder();
globalThis.sessions = new Map();

function churn(round) {
  for (let i = 0; i < LIMIT; i++) {
    const user = round * LIMIT + i;
    globalThis.sessions.set(`user-${user}`, new Session(user));
    if (globalThis.sessions.size > LIMIT) {
      globalThis.sessions.delete(globalThis.sessions.keys().next().value);
    }
  }
  let garbage = Array.from({ length: 2000 }, (_, i) => new Session(i));
  garbage = null;
  return garbage;
}

// A service has run a while before anyone dumps it: its code has warmed up (compiled, tiered up, its
// hidden classes settled), so the snapshots differ in what the program keeps, not in V8's own state.
for (let warm = 0; warm < 5; warm++) churn(100 + warm);

const files = [];
const leaky = [];
for (let round = 0; round < 3; round++) {
  churn(round);
  if (mode === 'leak') {
    const items = globalThis.holder.items;
    for (let i = items.size, end = items.size + step; i < end; i++) items.set(i, new Leaky(i));
  }
  files.push(v8.writeHeapSnapshot(`${prefix}.${round + 1}.heapsnapshot`));
  leaky.push(globalThis.holder.items.size);
}
console.log(JSON.stringify({ files, leaky, node: process.version }));
