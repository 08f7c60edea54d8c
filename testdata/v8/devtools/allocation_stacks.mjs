// Chrome DevTools' allocation stacks of a snapshot taken with allocation tracking, computed by DevTools'
// heap snapshot worker code run under Node, as JSON on stdout:
//   node allocation_stacks.mjs WORKER_BUNDLE.mjs SNAPSHOT
// {"stacks": {TRACE_NODE_ID: [[function, script, line], ...]}, "nodes": [[V8 ID, TRACE_NODE_ID], ...]}
// Each stack is DevTools' allocationStack() of the first node allocated there, the allocating function
// first and DevTools' last (root) frame included; nodes lists every node DevTools gives a stack.
import { loadSnapshot } from './load.mjs';

const [bundle, snapshotFile] = process.argv.slice(2);
const snapshot = await loadSnapshot(bundle, snapshotFile);
const stacks = {};
const nodes = [];
const node = snapshot.rootNode();
for (let index = 0; index < snapshot.nodes.length; index += snapshot.nodeFieldCount) {
  node.nodeIndex = index;
  const trace = node.traceNodeId();
  if (!trace) continue;
  if (!(trace in stacks)) {
    stacks[trace] = snapshot.allocationStack(index).map((f) => [f.functionName, f.scriptName, f.line]);
  }
  nodes.push([node.id(), trace]);
}
process.stdout.write(JSON.stringify({ stacks, nodes }) + '\n');
