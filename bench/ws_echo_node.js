// ws_echo_node.js — the reference for bench/ws_bench.py: Node's `ws` echo server (no compression), one
// process. Prints {"ready": true, "port": N} once listening.
//
//   node bench/ws_echo_node.js [PORT]
'use strict';
const path = require('path');
const { WebSocketServer } = require(path.join(__dirname, '..', 'fixtures', 'node', 'node_modules', 'ws'));

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] || 0), perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => console.log(JSON.stringify({ ready: true, port: wss.address().port })));
process.on('SIGTERM', () => process.exit(0));
