#!/usr/bin/env python3
"""The page in a real browser: headless Chromium driven over WebDriver (chromedriver), loopback only.

Draws a known digit stroke on the canvas, reads the 8×8 input and the ten probabilities the page
computed in WebAssembly, and compares them with the host's `predict` on the same pixels
(`host_check`, 1e-5). Then loads a matching `.keras` file and a non-matching one in the second tab
(the first must give the embedded model's numbers, the second a clear error), and reports the
`.wasm` size and the time per inference in the browser beside native.

    python3 examples/web/browser_test.py [--scalar] [--screenshot examples/web/screenshot.png]

Needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver); only the
Python standard library.
"""
import base64
import json
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import serve

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parent / "data"
TOLERANCE = 1e-5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriver:
    """The few W3C WebDriver commands the test needs, over HTTP to chromedriver."""

    def __init__(self, port, profile):
        self.base = f"http://127.0.0.1:{port}"
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": "/usr/bin/chromium",
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                            "--no-first-run", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                            "--window-size=900,700",
                        ],
                    },
                }
            }
        }
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                value = json.load(resp)["value"]
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"webdriver {method} {path}: {e.code}: {e.read().decode()}") from e
        if isinstance(value, dict) and "error" in value:
            raise RuntimeError(f"webdriver {path}: {value['error']}: {value.get('message')}")
        return value

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    def script(self, code, *args):
        return self.s("POST", "/execute/sync", {"script": code, "args": list(args)})

    def element(self, css):
        found = self.s("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(found.values()))

    def quit(self):
        self.call("DELETE", f"/session/{self.session}")


# A "7": the top bar, then the diagonal, in canvas pixels (256×256).
STROKE = [(60, 50), (120, 50), (196, 50), (170, 110), (140, 170), (112, 226)]


def draw(driver, stroke):
    """Presses the mouse on the canvas and moves it along `stroke` (canvas pixels)."""
    left, top = driver.script(
        "const r = document.getElementById('pad').getBoundingClientRect();"
        "return [r.left, r.top];")

    def move(x, y, duration):
        return {"type": "pointerMove", "origin": "viewport", "duration": duration,
                "x": round(left + x), "y": round(top + y)}

    actions = [move(*stroke[0], 0), {"type": "pointerDown", "button": 0}]
    for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
        for k in range(1, 9):  # intermediate points, so the page sees a continuous line
            actions.append(move(x0 + (x1 - x0) * k / 8, y0 + (y1 - y0) * k / 8, 10))
    actions.append({"type": "pointerUp", "button": 0})
    driver.s("POST", "/actions", {"actions": [
        {"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
         "actions": actions}]})
    driver.s("DELETE", "/actions")


def host_predict(pixels):
    """The embedded model's probabilities and native time per inference, from `host_check`."""
    text = " ".join(repr(p) for p in pixels)
    out = subprocess.run(
        ["cargo", "run", "-q", "--release", "--bin", "host_check"], cwd=HERE, input=text,
        capture_output=True, text=True, check=True).stdout.split("\n")
    probs = [float(line) for line in out[:10]]
    simd_us, portable_us = (float(t) for t in out[10].split()[1:])
    return probs, simd_us, portable_us


def close(a, b):
    return all(abs(x - y) <= TOLERANCE * max(1.0, abs(y)) for x, y in zip(a, b))


def main():
    screenshot = sys.argv[sys.argv.index("--screenshot") + 1] if "--screenshot" in sys.argv else None
    wasm_size = serve.build(simd128="--scalar" not in sys.argv)
    httpd = serve.server(0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/index.html"
    port = free_port()
    driver_proc = subprocess.Popen(["/usr/bin/chromedriver", f"--port={port}"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failures = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        with tempfile.TemporaryDirectory() as profile:
            driver = WebDriver(port, profile)
            try:
                driver.s("POST", "/url", {"url": url})
                for _ in range(200):
                    if driver.script("return window.staticKeras && window.staticKeras.ready"):
                        break
                    time.sleep(0.05)
                else:
                    raise RuntimeError("the page never became ready (wasm failed to load?)")

                draw(driver, STROKE)
                last = driver.script("return window.staticKeras.last")
                pixels, result = last["pixels"], last["result"]
                if sum(pixels) < 3:
                    failures.append(f"the stroke left almost no ink: {sum(pixels):.2f}")
                host, native_us, portable_us = host_predict(pixels)
                worst = max(abs(a - b) for a, b in zip(result["probs"], host))
                print(f"embedded model: page says {result['cls']}, host says "
                      f"{max(range(10), key=host.__getitem__)}; worst |Δp| {worst:.2e}")
                if not close(result["probs"], host):
                    failures.append(f"page {result['probs']} != host {host}")
                if result["cls"] != max(range(10), key=host.__getitem__):
                    failures.append("the page's class is not the host's")
                browser_ms = driver.script("return window.staticKeras.benchmark(2000)")
                if screenshot:
                    png = driver.s("GET", "/screenshot")
                    pathlib.Path(screenshot).write_bytes(base64.b64decode(png))

                # The second tab: a matching file, then another model's file.
                driver.script("window.staticKeras.setMode('user')")
                file_input = driver.element("#file")
                driver.s("POST", f"/element/{file_input}/value",
                         {"text": str(DATA / "digits_cnn.keras")})
                for _ in range(100):
                    load = driver.script("return window.staticKeras.load || null")
                    if load:
                        break
                    time.sleep(0.05)
                user = driver.script("return window.staticKeras.last")["result"]
                print(f"user file digits_cnn.keras: {load['message']}")
                if not load["ok"] or user is None or not close(user["probs"], host):
                    failures.append(f"digits_cnn.keras in the second tab: {load}, {user}")
                driver.script("window.staticKeras.load = null")
                driver.s("POST", f"/element/{file_input}/clear", {})
                driver.s("POST", f"/element/{file_input}/value",
                         {"text": str(DATA / "digits.keras")})
                for _ in range(100):
                    load = driver.script("return window.staticKeras.load || null")
                    if load:
                        break
                    time.sleep(0.05)
                shown = driver.script("return document.getElementById('load-status').textContent")
                print(f"user file digits.keras (an MLP): {shown}")
                if load is None or load["ok"] or "Not this model" not in shown:
                    failures.append(f"digits.keras should be refused with a message: {load}")
            finally:
                driver.quit()
    finally:
        driver_proc.terminate()
        driver_proc.wait()
        httpd.shutdown()

    print(f".wasm size: {wasm_size} bytes")
    print(f"per inference: browser {browser_ms * 1000:.1f} us; native {native_us:.1f} us with "
          f"SIMD kernels, {portable_us:.1f} us with the portable ones the .wasm runs "
          f"(browser / native portable: x{browser_ms * 1000 / portable_us:.2f})")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("browser test passed")


if __name__ == "__main__":
    main()
