"""A synchronous JSON-over-WebSocket RPC client (CDP and WebDriver BiDi).

python3-websockets 10.4 has no synchronous client (that came in 11.0), so each
connection owns an asyncio event loop running in a daemon thread. Callers use
``call()`` from any thread; replies are matched by ``id``; every message
without a pending ``id`` is an event, passed to ``on_event`` in the loop
thread (keep it short and thread-safe).

``close()`` closes the WebSocket and lets ``asyncio.run`` finish the loop
(cancel leftovers, shut down async generators, close the loop) inside the
thread, so no "Event loop is closed" or "Task was destroyed" noise is left for
the garbage collector.
"""

import asyncio
import concurrent.futures
import itertools
import json
import logging
import threading

import websockets
import websockets.exceptions

log = logging.getLogger("harness.browsers")


class RpcClosed(Exception):
    """The connection is closed (the browser died, or close() was called)."""


class RpcTimeout(Exception):
    """No reply within the call's timeout."""


class RpcConnection:
    """One WebSocket to a browser's CDP or BiDi endpoint.

    ``call()`` returns the whole reply; telling an error reply apart is the
    caller's business (CDP: an ``error`` member; BiDi: ``type == "error"``).
    """

    def __init__(self, url, *, on_event=None, connect_timeout=10.0, name="rpc"):
        self.url = url
        self.name = name
        self._on_event = on_event
        self._ids = itertools.count(1)
        self._pending = {}                      # id -> concurrent Future
        self._pending_lock = threading.Lock()
        self._ready = threading.Event()
        self._connect_error = None
        self._closed = threading.Event()        # set when the socket is gone
        self.close_reason = None
        self._loop = None
        self._ws = None
        self._stop = None
        self._thread = threading.Thread(target=self._thread_main, args=(connect_timeout,),
                                        name=f"{name}-loop", daemon=True)
        self._thread.start()
        if not self._ready.wait(connect_timeout + 5):
            self.close()
            raise RpcTimeout(f"{name}: no connection to {url} within {connect_timeout} s")
        if self._connect_error is not None:
            self._thread.join(5)
            raise RpcClosed(f"{name}: cannot connect to {url}: {self._connect_error!r}")

    # -- loop thread ------------------------------------------------------

    def _thread_main(self, connect_timeout):
        try:
            asyncio.run(self._main(connect_timeout))
        except Exception as exc:  # never let the thread die with a traceback on stderr
            log.debug("%s: loop ended with %r", self.name, exc)
        finally:
            self._closed.set()
            self._fail_pending(RpcClosed(f"{self.name}: connection closed ({self.close_reason})"))
            self._ready.set()

    async def _main(self, connect_timeout):
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            self._ws = await websockets.connect(
                self.url, max_size=None, ping_interval=None, open_timeout=connect_timeout,
                close_timeout=1, compression=None)
        except Exception as exc:
            self._connect_error = exc
            self._ready.set()
            return
        self._ready.set()
        reader = asyncio.ensure_future(self._read())
        stopper = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
        try:
            await asyncio.wait_for(self._ws.close(), 2)
        except Exception:
            pass
        for task in (reader, stopper):
            task.cancel()
        await asyncio.gather(reader, stopper, return_exceptions=True)
        if self.close_reason is None:
            self.close_reason = "closed by client"

    async def _read(self):
        try:
            async for raw in self._ws:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    log.warning("%s: not JSON: %.200r", self.name, raw)
                    continue
                fut = None
                if isinstance(msg.get("id"), int):
                    with self._pending_lock:
                        fut = self._pending.pop(msg["id"], None)
                if fut is not None:
                    if not fut.done():
                        fut.set_result(msg)
                elif self._on_event is not None:
                    try:
                        self._on_event(msg)
                    except Exception:
                        log.exception("%s: event handler failed", self.name)
            self.close_reason = f"peer closed ({self._ws.close_code})"
        except websockets.exceptions.ConnectionClosed as exc:
            self.close_reason = f"connection lost ({exc})"
        finally:
            self._closed.set()
            self._fail_pending(RpcClosed(f"{self.name}: connection closed ({self.close_reason})"))

    def _fail_pending(self, exc):
        with self._pending_lock:
            pending, self._pending = self._pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(exc)

    # -- caller side ------------------------------------------------------

    @property
    def closed(self):
        return self._closed.is_set()

    def call(self, message, timeout=30.0):
        """Send ``message`` (a dict without ``id``) and return the whole reply dict.

        Raises RpcClosed if the connection is or becomes closed, RpcTimeout if no
        reply arrives within ``timeout`` s.
        """
        reply = self.send_call(message, timeout)
        try:
            return self.reply_of(reply, message, timeout)
        finally:
            reply.cancel()

    def send_call(self, message, timeout=30.0):
        """Send ``message`` and return the Future of its reply without waiting for it.

        The Future is forgotten once it is done or cancelled (cancel it when the
        reply no longer matters). Raises RpcClosed if the connection is closed,
        RpcTimeout if the message could not be sent within ``timeout`` s.
        """
        if self.closed:
            raise RpcClosed(f"{self.name}: connection closed ({self.close_reason})")
        msg_id = next(self._ids)
        fut = concurrent.futures.Future()
        with self._pending_lock:
            self._pending[msg_id] = fut
        fut.add_done_callback(lambda _f: self._forget(msg_id))
        coro = self._send(json.dumps(dict(message, id=msg_id)))
        try:
            sent = asyncio.run_coroutine_threadsafe(coro, self._loop)
        except RuntimeError as exc:   # the loop has already stopped
            coro.close()
            fut.cancel()
            raise RpcClosed(f"{self.name}: connection closed ({exc})") from None
        try:
            sent.result(timeout)
        except concurrent.futures.CancelledError:
            fut.cancel()
            raise RpcClosed(f"{self.name}: connection closed ({self.close_reason})") from None
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise RpcTimeout(f"{self.name}: could not send {message.get('method')} "
                             f"within {timeout} s") from None
        return fut

    def reply_of(self, fut, message, timeout):
        """Wait up to ``timeout`` s for the reply Future of ``send_call``."""
        try:
            return fut.result(timeout)
        except concurrent.futures.CancelledError:
            raise RpcClosed(f"{self.name}: connection closed ({self.close_reason})") from None
        except concurrent.futures.TimeoutError:
            raise RpcTimeout(f"{self.name}: no reply to {message.get('method')} within {timeout} s") from None

    def _forget(self, msg_id):
        with self._pending_lock:
            self._pending.pop(msg_id, None)

    def post(self, message):
        """Send ``message`` without waiting for (or keeping) its reply.

        Usable from the event handler in the loop thread, where ``call()``
        would deadlock. The reply arrives as an event with an ``id``; handlers
        ignore those.
        """
        if self.closed or self._loop is None:
            return
        data = json.dumps(dict(message, id=next(self._ids)))
        coro = self._send(data)
        try:
            fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        except RuntimeError:
            coro.close()
            return
        fut.add_done_callback(lambda f: f.cancelled() or f.exception())   # retrieve, never log

    async def _send(self, data):
        try:
            await self._ws.send(data)
        except websockets.exceptions.ConnectionClosed as exc:
            raise RpcClosed(f"{self.name}: connection closed ({exc})") from None

    def close(self, timeout=5.0):
        """Close the socket and stop the loop thread. Idempotent."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and self._thread.is_alive():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                pass
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()
