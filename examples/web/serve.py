#!/usr/bin/env python3
"""Builds the page's WebAssembly module and serves examples/web/www on loopback.

    python3 examples/web/serve.py            # then open http://127.0.0.1:8000
    python3 examples/web/serve.py --build-only
"""
import functools
import http.server
import pathlib
import shutil
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
WWW = HERE / "www"
WASM = HERE / "target/wasm32-unknown-unknown/release/web.wasm"


def build():
    """cargo build for wasm32; copies the module next to the page. Returns its size in bytes."""
    subprocess.run(
        ["cargo", "build", "--release", "--lib", "--target", "wasm32-unknown-unknown"],
        cwd=HERE,
        check=True,
    )
    shutil.copyfile(WASM, WWW / "static_keras_web.wasm")
    return WASM.stat().st_size


def server(port=8000):
    """An HTTP server for www/ on 127.0.0.1 (port 0: any free port)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(WWW))
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


if __name__ == "__main__":
    size = build()
    print(f"static_keras_web.wasm: {size} bytes")
    if "--build-only" not in sys.argv:
        httpd = server()
        print("serving http://127.0.0.1:8000 (Ctrl-C stops)")
        httpd.serve_forever()
