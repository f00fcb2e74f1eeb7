#!/usr/bin/env python3
"""Builds the page's WebAssembly module and serves examples/web/www on loopback.

    python3 examples/web/serve.py            # then open http://127.0.0.1:8000
    python3 examples/web/serve.py --build-only [--scalar]
"""
import functools
import os
import http.server
import pathlib
import shutil
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
WWW = HERE / "www"


def build(simd128=True):
    """cargo build for wasm32; copies the module next to the page. Returns its size in bytes.

    With `simd128` (the default; every current browser runs it) the compiler vectorises the
    portable kernels with WebAssembly's 128-bit SIMD; without it the module runs them scalar.
    """
    env = dict(os.environ)
    target_dir = HERE / "target" / ("simd128" if simd128 else "scalar")
    if simd128:
        env["RUSTFLAGS"] = (env.get("RUSTFLAGS", "") + " -C target-feature=+simd128").strip()
    subprocess.run(
        ["cargo", "build", "--release", "--lib", "--target", "wasm32-unknown-unknown",
         "--target-dir", str(target_dir)],
        cwd=HERE,
        env=env,
        check=True,
    )
    wasm = target_dir / "wasm32-unknown-unknown/release/web.wasm"
    shutil.copyfile(wasm, WWW / "static_keras_web.wasm")
    return wasm.stat().st_size


def server(port=8000):
    """An HTTP server for www/ on 127.0.0.1 (port 0: any free port)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(WWW))
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


if __name__ == "__main__":
    size = build(simd128="--scalar" not in sys.argv)
    print(f"static_keras_web.wasm: {size} bytes")
    if "--build-only" not in sys.argv:
        httpd = server()
        print("serving http://127.0.0.1:8000 (Ctrl-C stops)")
        httpd.serve_forever()
