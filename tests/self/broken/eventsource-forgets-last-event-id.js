'use strict';
// BROKEN ON PURPOSE (self-test): the npm eventsource whose reconnection forgets Last-Event-ID. The HTML
// standard ("reestablish the connection") sends the last event ID string in Last-Event-ID when it is not
// empty. eventsource 4 takes a `fetch` option; this one drops the header from every request it makes.
// Use: --client node:tests/self/broken/eventsource-forgets-last-event-id.js
const path = require('path');
const NODE = path.join(__dirname, '..', '..', '..', 'fixtures', 'node');
const { EventSource: Real } = require(require.resolve('eventsource', { paths: [NODE] }));

function forgetfulFetch(url, init) {
  const headers = Object.assign({}, (init && init.headers) || {});
  for (const k of Object.keys(headers)) if (k.toLowerCase() === 'last-event-id') delete headers[k];  // BROKEN
  return globalThis.fetch(url, Object.assign({}, init, { headers }));
}

class BrokenEventSource extends Real {
  constructor(url, init) {
    super(url, Object.assign({}, init || {}, { fetch: forgetfulFetch }));
  }
}

module.exports = {
  EventSource: BrokenEventSource,
  name: 'eventsource-broken-forgets-last-event-id',
  version: require(require.resolve('eventsource/package.json', { paths: [NODE] })).version,
  caps: require(path.join(NODE, 'libs', 'eventsource.js')).caps,
};
