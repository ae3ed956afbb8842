'use strict';
// BROKEN ON PURPOSE (self-test): the npm ws whose close() lets code 1005 through onto the wire. The
// WebSockets standard's close() throws InvalidAccessError for any code but 1000 and 3000-4999, and RFC 6455
// §7.4.1 forbids sending 1005 in a Close frame. ws validates codes with validation.isValidStatusCode, which
// its sender takes when it is first loaded: patched here before ws loads, to accept 1005 as well.
// Use: --client node:tests/self/broken/ws-accepts-1005.js
const path = require('path');
const NODE = path.join(__dirname, '..', '..', '..', 'fixtures', 'node');
const WS_DIR = path.dirname(require.resolve('ws', { paths: [NODE] }));
const validation = require(path.join(WS_DIR, 'lib', 'validation.js'));   // the file ws itself loads
const valid = validation.isValidStatusCode;
validation.isValidStatusCode = (code) => code === 1005 || valid(code);   // BROKEN
const WebSocket = require(require.resolve('ws', { paths: [NODE] }));

module.exports = {
  WebSocket,
  name: 'ws-broken-accepts-1005',
  version: require(path.join(WS_DIR, 'package.json')).version,
};
