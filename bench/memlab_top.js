// memlab's answer to `heapgraph top`: loads a snapshot with its full analysis (dominators and retained
// sizes, its port of DevTools' algorithm) and prints the N objects retaining the most. For benchmarks.
//   NODE_PATH=/path/to/node_modules node --max-old-space-size=16384 bench/memlab_top.js SNAP [N]
const { getFullHeapFromFile } = require('@memlab/heap-analysis');

(async () => {
  const [file, n = '10'] = process.argv.slice(2);
  const heap = await getFullHeapFromFile(file);
  const top = [];
  heap.nodes.forEach((node) => {
    top.push([node.retainedSize, node.id, node.name]);
    if (top.length > 4 * Number(n)) {
      top.sort((a, b) => b[0] - a[0]);
      top.length = Number(n);
    }
  });
  top.sort((a, b) => b[0] - a[0]);
  for (const [size, id, name] of top.slice(0, Number(n))) console.log(`${size}\t@${id}\t${name}`);
})();
