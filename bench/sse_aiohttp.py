"""The reference for the SSE benchmark: a tiny aiohttp server streaming the same three events as
bench/sse_streams.case, then holding the stream open. Prints its port on stdout, serves until killed.

    /usr/bin/python3 bench/sse_aiohttp.py
"""
import asyncio
import sys

from aiohttp import web

EVENTS = (b"retry: 3000\nid: 1\ndata: hello\n\n", b"id: 2\ndata: world\n\n", b"id: 3\nevent: tick\ndata: t1-0000\n\n")


async def stream(request):
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
    await resp.prepare(request)
    for i, ev in enumerate(EVENTS):
        if i:
            await asyncio.sleep(0.1)
        await resp.write(ev)
    await asyncio.sleep(3600)
    return resp


async def main():
    app = web.Application()
    app.router.add_get("/stream", stream)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
