// A Node.js process for `heapgraph dump --pid` tests, driven over stdin with one JSON answer per line:
//   node testdata/v8/attach_target.js HELD
// It holds HELD objects of class Held, each with a Leaf, in globalThis.held, serves HTTP on a free
// loopback port (every request answers {"held": N}), and answers on stdin:
//   ping -> {"pong": true};  grow K -> K more Held, {"held": N};  snapshot PATH -> a heap snapshot written
//   by Node itself (v8.writeHeapSnapshot), {"snapshot": PATH};  gap -> the longest gap between two ticks
//   of a 5 ms interval timer since the last `gap`, {"longest_gap_seconds": S}: the longest pause of its
//   main thread.  The end of stdin ends it.
// Its first line is {"ready": PID, "port": PORT, "held": N}.
const http = require('http');
const readline = require('readline');
const v8 = require('v8');

class Leaf {
  constructor(i) {
    this.value = i;
  }
}
class Held {
  constructor(i) {
    this.id = i;
    this.leaf = new Leaf(i);
  }
}

globalThis.held = [];
const grow = (n) => {
  for (let i = 0; i < n; i++) globalThis.held.push(new Held(globalThis.held.length));
};
grow(Number(process.argv[2] || 1000));

const say = (value) => process.stdout.write(JSON.stringify(value) + '\n');
const server = http.createServer((request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ held: globalThis.held.length }));
});
server.listen(0, '127.0.0.1', () => {
  say({ ready: process.pid, port: server.address().port, held: globalThis.held.length });
});

let longestGap = 0;
let lastTick = process.hrtime.bigint();
const ticker = setInterval(() => {
  const now = process.hrtime.bigint();
  longestGap = Math.max(longestGap, Number(now - lastTick) / 1e9);
  lastTick = now;
}, 5);

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [command, argument] = line.trim().split(/\s+/, 2);
  if (command === 'ping') say({ pong: true });
  else if (command === 'grow') {
    grow(Number(argument));
    say({ held: globalThis.held.length });
  } else if (command === 'snapshot') say({ snapshot: v8.writeHeapSnapshot(argument) });
  else if (command === 'gap') {
    say({ longest_gap_seconds: longestGap });
    longestGap = 0;
  } else say({ error: `unknown command ${command}` });
});
lines.on('close', () => {
  clearInterval(ticker);
  server.close(() => process.exit(0));
});
