// Runs memlab's own analysis (its port of DevTools' Lengauer-Tarjan dominators and retained sizes) on a
// snapshot and writes, for every node, its id, retained size and immediate dominator's id, as JSON:
//   {"ids": [...], "retained": [...], "dominators": [...]}   (dominator id -1: none)
// Needs @memlab/heap-analysis (npm install @memlab/heap-analysis; PUPPETEER_SKIP_DOWNLOAD=1 skips the
// browser download it does not need). Usage:
//   NODE_PATH=/path/to/node_modules node testdata/v8/memlab_oracle.js SNAPSHOT OUT.json
const { getFullHeapFromFile } = require('@memlab/heap-analysis');
const fs = require('fs');

(async () => {
  const [snapshotFile, out] = process.argv.slice(2);
  const started = Date.now();
  const heap = await getFullHeapFromFile(snapshotFile);
  const ids = [];
  const retained = [];
  const dominators = [];
  heap.nodes.forEach((node) => {
    ids.push(node.id);
    retained.push(node.retainedSize);
    const d = node.dominatorNode;
    dominators.push(d ? d.id : -1);
  });
  fs.writeFileSync(out, JSON.stringify({ ids, retained, dominators }));
  console.error(`memlab: ${ids.length} nodes in ${(Date.now() - started) / 1000} s`);
})();
