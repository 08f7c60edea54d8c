// Writes a V8 heap snapshot taken while V8 tracked allocations, for heapgraph's allocation site tests:
//   node --track-heap-objects testdata/v8/make_tracked_snapshot.js OUT.heapsnapshot [SESSIONS]
// leakSessions() makes SESSIONS (default 1000) Session objects, each with an Array of 8 numbers its
// constructor makes, and openAll() keeps them in globalThis.sessions. Prints one JSON line of facts: the
// lines where the functions are defined, found in this file's own text (V8 records a function's
// definition line, not the line of the allocation).
const fs = require('fs');
const v8 = require('v8');

class Session {
  constructor(i) {
    this.id = i;
    this.buffer = new Array(8).fill(i);
  }
}

function leakSessions(n) {
  const sessions = [];
  for (let i = 0; i < n; i++) sessions.push(new Session(i));
  return sessions;
}

function openAll(n) {
  globalThis.sessions = leakSessions(n);
}

const sessions = Number(process.argv[3] || 1000);
openAll(sessions);
const file = v8.writeHeapSnapshot(process.argv[2]);
const lines = fs.readFileSync(__filename, 'utf8').split('\n');
const lineOf = (text) => lines.findIndex((l) => l.includes(text)) + 1;
console.log(
  JSON.stringify({
    file,
    script: __filename,
    sessions,
    lines: {
      leakSessions: lineOf('function leakSessions('),
      openAll: lineOf('function openAll('),
      Session: lineOf('constructor(i)'),
    },
    node: process.version,
  }),
);
