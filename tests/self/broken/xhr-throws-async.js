'use strict';
// BROKEN ON PURPOSE (self-test): an XMLHttpRequest (xhr2 underneath) that throws from a timer shortly
// after send(), outside any step or listener: the way a library bug in a socket callback surfaces. The
// adapter must pin it on the running case (CRASH with the exception) and go on with the next case.
// With the environment variable CH_BROKEN_EXIT=1 it calls process.exit(7) instead.
const path = require('path');
const NODE = path.join(__dirname, '..', '..', '..', 'fixtures', 'node');
const XHR = require(require.resolve('xhr2', { paths: [NODE] }));

class ThrowingXMLHttpRequest extends XHR {
  send(body) {
    const r = super.send(body);
    setTimeout(() => {
      if (process.env.CH_BROKEN_EXIT === '1') process.exit(7);
      throw new TypeError('boom from inside the library');   // BROKEN
    }, 20);
    return r;
  }
}

module.exports = { XMLHttpRequest: ThrowingXMLHttpRequest, name: 'xhr2-broken-throws-async', version: '0' };
