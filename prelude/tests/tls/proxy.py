"""A TLS front for the loopback RGW (prelude/tests/tls.rs): like an https gateway, it terminates
TLS with the given certificate and pipes bytes to the plain-HTTP upstream. Prints its port.

    proxy.py CERT KEY UPSTREAM_PORT"""

import asyncio
import ssl
import sys

cert, key, upstream = sys.argv[1], sys.argv[2], int(sys.argv[3])


async def pipe(r, w):
    try:
        while data := await r.read(65536):
            w.write(data)
            await w.drain()
    finally:
        w.close()


async def handle(r, w):
    ur, uw = await asyncio.open_connection("127.0.0.1", upstream)
    await asyncio.gather(pipe(r, uw), pipe(ur, w), return_exceptions=True)


async def main():
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
