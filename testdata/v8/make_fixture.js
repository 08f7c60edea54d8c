// Writes small V8 heap snapshots of known structures, for heapgraph's tests:
//   node testdata/v8/make_fixture.js OUT.heapsnapshot [LEAKY] [LATER.heapsnapshot]
// With LATER, the same process then adds LEAKY / 2 more Leaky objects and writes a second snapshot, for
// `growth` between two snapshots of one process.
// - globalThis.holder: a LeakHolder whose Map holds LEAKY (default 1000) Leaky objects, each with an Array
//   payload of 10 small integers (Smis, which make no nodes): the holder retains all of them;
// - a WeakMap whose key is held strongly and whose value is held only through the WeakMap entry;
// - a WeakRef to an object held nowhere else (weakly reachable: garbage for the dominator tree);
// - a closure whose context holds `secret` (a context edge);
// - a string with non-ASCII text ("héllo wörld ✓"), so the reader decodes \u escapes.
// Prints one JSON line of facts the tests check against.
const v8 = require('v8');

class Leaky {
  constructor(i) {
    this.id = i;
    this.payload = new Array(10).fill(i);
  }
}
class LeakHolder {
  constructor(n) {
    this.items = new Map();
    for (let i = 0; i < n; i++) this.items.set(i, new Leaky(i));
  }
}
class WeakKey {}
class WeakValue {}
class OnlyWeak {}
class Secret {}

const leaky = Number(process.argv[3] || 1000);
globalThis.holder = new LeakHolder(leaky);
globalThis.weakKey = new WeakKey();
globalThis.weakMap = new WeakMap([[globalThis.weakKey, new WeakValue()]]);
globalThis.weakRef = new WeakRef(new OnlyWeak());
globalThis.greet = (() => {
  const secret = new Secret();
  return () => secret;
})();
globalThis.text = ['héllo wörld ✓', 'plain'].join(' / ');

const file = v8.writeHeapSnapshot(process.argv[2]);
const added = Math.floor(leaky / 2);
if (process.argv[4]) {
  for (let i = leaky; i < leaky + added; i++) globalThis.holder.items.set(i, new Leaky(i));
  v8.writeHeapSnapshot(process.argv[4]);
}
console.log(JSON.stringify({ file, leaky, added, node: process.version }));
