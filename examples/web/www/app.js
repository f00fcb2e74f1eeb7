// The page's side: draws, turns the drawing into the model's 8×8 input, calls the module's
// `extern "C"` exports (see src/lib.rs) and shows the probabilities. `window.staticKeras` is what
// the browser test reads.
"use strict";

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d", { willReadFrequently: true });
const small = document.getElementById("small").getContext("2d");
const bars = document.getElementById("bars");
let wasm = null;
let mode = "embedded"; // or "user"
let pixelsPtr = 0;
let probsPtr = 0;

function clearPad() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
}

// Ink in [0, 1] averaged over each 32×32 block: the 8×8 input, row by row, like scikit-learn's
// digits (which are 0..16 ink counts, scaled to [0, 1] for training).
function inputPixels() {
  const data = ctx.getImageData(0, 0, pad.width, pad.height).data;
  const block = pad.width / 8;
  const pixels = new Float32Array(64);
  for (let by = 0; by < 8; by++) {
    for (let bx = 0; bx < 8; bx++) {
      let ink = 0;
      for (let y = by * block; y < (by + 1) * block; y++) {
        for (let x = bx * block; x < (bx + 1) * block; x++) {
          ink += 1 - data[(y * pad.width + x) * 4] / 255;
        }
      }
      pixels[by * 8 + bx] = ink / (block * block);
    }
  }
  return pixels;
}

function showInput(pixels) {
  const img = small.createImageData(8, 8);
  for (let i = 0; i < 64; i++) {
    const v = 255 - Math.round(pixels[i] * 255);
    img.data.set([v, v, v, 255], i * 4);
  }
  small.putImageData(img, 0, 0);
}

function classify(pixels) {
  new Float32Array(wasm.memory.buffer, pixelsPtr, 64).set(pixels);
  const run = mode === "user" ? wasm.sk_classify_user : wasm.sk_classify;
  const cls = run(pixelsPtr, probsPtr);
  if (cls === 0xffffffff) return null; // no user model loaded
  return { cls, probs: Array.from(new Float32Array(wasm.memory.buffer, probsPtr, 10)) };
}

function update() {
  const pixels = inputPixels();
  showInput(pixels);
  const result = classify(pixels);
  window.staticKeras.last = { mode, pixels: Array.from(pixels), result };
  bars.replaceChildren();
  document.getElementById("predicted").textContent = result ? String(result.cls) : "–";
  for (let d = 0; d < 10; d++) {
    const p = result ? result.probs[d] : 0;
    const bar = document.createElement("div");
    bar.className = "bar" + (result && d === result.cls ? " best" : "");
    bar.style.width = (p * 220).toFixed(1) + "px";
    const wrap = document.createElement("div");
    wrap.append(bar);
    const label = document.createElement("div");
    label.textContent = d;
    const value = document.createElement("div");
    value.textContent = p.toFixed(4);
    bars.append(label, wrap, value);
  }
}

// Milliseconds per inference of the current model over `runs` inferences on the current drawing.
function benchmark(runs) {
  const pixels = inputPixels();
  classify(pixels); // warm
  const start = performance.now();
  for (let i = 0; i < runs; i++) classify(pixels);
  return (performance.now() - start) / runs;
}

async function loadUserFile(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const ptr = wasm.sk_alloc(bytes.length);
  new Uint8Array(wasm.memory.buffer, ptr, bytes.length).set(bytes);
  const ok = wasm.sk_load_user(ptr, bytes.length) === 1;
  wasm.sk_free(ptr, bytes.length);
  const message = new TextDecoder().decode(
    new Uint8Array(wasm.memory.buffer, wasm.sk_message_ptr(), wasm.sk_message_len()));
  const status = document.getElementById("load-status");
  status.className = ok ? "ok" : "error";
  status.textContent = (ok ? "" : "Not this model: ") + message;
  window.staticKeras.load = { ok, message };
  update();
}

function setMode(next) {
  mode = next;
  document.getElementById("tab-embedded").classList.toggle("active", mode === "embedded");
  document.getElementById("tab-user").classList.toggle("active", mode === "user");
  document.getElementById("user-panel").hidden = mode !== "user";
  update();
}

let drawing = false;
function point(e) {
  const r = pad.getBoundingClientRect();
  return [e.clientX - r.left, e.clientY - r.top];
}
pad.addEventListener("pointerdown", (e) => {
  drawing = true;
  ctx.beginPath();
  ctx.moveTo(...point(e));
});
pad.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  ctx.lineTo(...point(e));
  ctx.stroke();
});
window.addEventListener("pointerup", () => {
  if (drawing) {
    drawing = false;
    update();
  }
});

document.getElementById("clear").addEventListener("click", () => { clearPad(); update(); });
document.getElementById("tab-embedded").addEventListener("click", () => setMode("embedded"));
document.getElementById("tab-user").addEventListener("click", () => setMode("user"));
document.getElementById("file").addEventListener("change", (e) => {
  if (e.target.files.length) loadUserFile(e.target.files[0]);
});

window.staticKeras = { ready: false, benchmark, setMode };
(async () => {
  const bytes = await (await fetch("static_keras_web.wasm")).arrayBuffer();
  const { instance } = await WebAssembly.instantiate(bytes, {});
  wasm = instance.exports;
  pixelsPtr = wasm.sk_alloc(64 * 4);
  probsPtr = wasm.sk_alloc(10 * 4);
  clearPad();
  ctx.strokeStyle = "#000";
  ctx.lineWidth = 26;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  update();
  window.staticKeras.wasmBytes = bytes.byteLength;
  window.staticKeras.ready = true;
})();
