// BROKEN ON PURPOSE (self-test): an EventSource that reconnects by building a fresh EventSource, so the
// reconnection request forgets Last-Event-ID. The HTML standard's "reestablish the connection" keeps
// the last event ID string and sends it in the Last-Event-ID header.
(function () {
  const Real = window.EventSource;
  class Broken extends EventTarget {
    constructor(url, init) {
      super();
      this.url = new URL(url, location.href).href;
      this.withCredentials = !!(init && init.withCredentials);
      this._init = init;
      this._types = new Set(['open', 'message', 'error']);
      this._closed = false;
      this.onopen = this.onmessage = this.onerror = null;
      this._connect();
    }
    get readyState() { return this._closed ? 2 : this._es ? this._es.readyState : 0; }
    addEventListener(type, fn, opts) {
      if (!this._types.has(type)) { this._types.add(type); if (this._es) this._listen(this._es, type); }
      return super.addEventListener(type, fn, opts);
    }
    _listen(es, type) {
      es.addEventListener(type, (e) => {
        const copy = e instanceof MessageEvent
          ? new MessageEvent(type, { data: e.data, origin: e.origin, lastEventId: e.lastEventId })
          : new Event(type);
        if (type === 'error' && es.readyState === 0) { // the real one would reconnect with the id:
          es.close();                                   // replace it with a new one, which forgets it
          setTimeout(() => { if (!this._closed) this._connect(); }, 400);
        }
        this.dispatchEvent(copy);
        const h = this['on' + type];
        if (typeof h === 'function') h.call(this, copy);
      });
    }
    _connect() {
      const es = new Real(this.url, this._init);
      this._es = es;
      for (const t of this._types) this._listen(es, t);
    }
    close() { this._closed = true; if (this._es) this._es.close(); }
  }
  Broken.CONNECTING = 0; Broken.OPEN = 1; Broken.CLOSED = 2;
  window.EventSource = Broken;
})();
