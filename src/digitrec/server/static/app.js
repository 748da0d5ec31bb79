// digitrec drawing page: draw or upload a digit, watch it flow through the network.
// Plain ES2020, no build step, no dependencies. Talks to the JSON API under ./api/.
"use strict";

const PAD = 280;             // logical pad size (CSS pixels); the backing store is scaled by devicePixelRatio
const THROTTLE_MS = 150;     // at most one request per 150 ms while drawing
const $ = (id) => document.getElementById(id);

const state = {
  strokes: [],               // [{size, points: [[x, y], ...]}] in PAD units, for undo
  drawing: null,             // the stroke in progress
  readAvailable: false,
  layers: [],                // last response's layers (name, type, shape, values: Float32Array, patch)
  input: null,               // Float32Array(784), the 28x28 image the network saw
  layoutKey: "",
  exampleIndex: 0,
};

// ------------------------------------------------------------------ colours

function lerp(a, b, t) { return a + (b - a) * t; }
function ramp(stops, n = 256) {
  const lut = new Uint8ClampedArray(n * 3);
  for (let i = 0; i < n; i++) {
    const t = i / (n - 1);
    let j = 0;
    while (j < stops.length - 2 && t > stops[j + 1][0]) j++;
    const [t0, c0] = stops[j], [t1, c1] = stops[j + 1];
    const u = Math.min(1, Math.max(0, (t - t0) / (t1 - t0)));
    for (let k = 0; k < 3; k++) lut[i * 3 + k] = Math.round(lerp(c0[k], c1[k], u));
  }
  return lut;
}
const POS = ramp([[0, [0, 0, 0]], [0.15, [51, 26, 0]], [0.6, [255, 157, 0]], [1, [255, 243, 176]]]);
const NEG = ramp([[0, [0, 0, 0]], [0.2, [13, 26, 51]], [1, [111, 168, 255]]]);

// RGB for value v of a layer whose values span [lo, hi]: signed layers get blue for negatives.
function colour(v, lo, hi) {
  const span = lo < 0 ? Math.max(-lo, hi) : hi;
  if (span <= 0) return [0, 0, 0];
  const t = Math.min(1, Math.abs(v) / span);
  const lut = v < 0 ? NEG : POS;
  const i = Math.round(t * 255) * 3;
  return [lut[i], lut[i + 1], lut[i + 2]];
}

function fmt(v) { return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2); }
function pct(p) { return (p * 100).toFixed(p >= 0.995 || p < 0.001 ? 0 : 1) + "%"; }

// ------------------------------------------------------------------ drawing pad

const pad = $("pad");
const ctx = pad.getContext("2d");

function setupPad() {
  const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
  pad.width = PAD * dpr;
  pad.height = PAD * dpr;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  redraw();
}

function redraw() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, PAD, PAD);
  for (const s of state.strokes) drawStroke(s);
  if (state.drawing) drawStroke(state.drawing);
  $("pad-hint").classList.toggle("gone", state.strokes.length > 0 || !!state.drawing);
}

function drawStroke(s) {
  ctx.strokeStyle = "#000";
  ctx.fillStyle = "#000";
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = s.size;
  const p = s.points;
  if (p.length === 1) {
    ctx.beginPath();
    ctx.arc(p[0][0], p[0][1], s.size / 2, 0, Math.PI * 2);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(p[0][0], p[0][1]);
  for (let i = 1; i < p.length; i++) ctx.lineTo(p[i][0], p[i][1]);
  ctx.stroke();
}

function padPoint(e) {
  const r = pad.getBoundingClientRect();
  return [((e.clientX - r.left) / r.width) * PAD, ((e.clientY - r.top) / r.height) * PAD];
}

pad.addEventListener("pointerdown", (e) => {
  if (e.button !== undefined && e.button > 0) return;
  e.preventDefault();
  pad.setPointerCapture(e.pointerId);
  hidePhoto();
  state.drawing = { size: Number($("brush").value), points: [padPoint(e)] };
  redraw();
});

pad.addEventListener("pointermove", (e) => {
  if (!state.drawing) return;
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
  for (const ev of events.length ? events : [e]) state.drawing.points.push(padPoint(ev));
  redraw();
  schedule(false);
});

function endStroke() {
  if (!state.drawing) return;
  state.strokes.push(state.drawing);
  state.drawing = null;
  redraw();
  schedule(true);
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

function undo() {
  state.strokes.pop();
  redraw();
  state.strokes.length ? schedule(true) : resetResult();
}
function clearPad() {
  state.strokes = [];
  redraw();
  hidePhoto();
  resetResult();
}

$("undo").addEventListener("click", undo);
$("clear").addEventListener("click", clearPad);
$("brush").addEventListener("input", () => { $("brush-value").textContent = $("brush").value; });
document.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z" && !(e.target instanceof HTMLInputElement)) {
    e.preventDefault();
    undo();
  }
});
pad.addEventListener("keydown", (e) => {
  if (e.key === "Escape" || e.key === "Delete") clearPad();
  if (e.key === "Enter" || e.key === " ") { e.preventDefault(); drawExample(); }
});

// Example digits in PAD units, so keyboard-only users can explore the network too.
const EXAMPLES = [
  [[[75, 62], [205, 62], [120, 232]]],
  [[...Array(33).keys()].map((i) => [140 + 58 * Math.sin(i / 32 * 2 * Math.PI), 140 - 88 * Math.cos(i / 32 * 2 * Math.PI)])],
  [[[118, 82], [150, 48], [150, 235]]],
  [[[175, 235], [175, 48], [80, 170], [215, 170]]],
  [[[82, 95], [108, 58], [170, 55], [196, 100], [170, 150], [82, 230], [212, 230]]],
];
function drawExample() {
  hidePhoto();
  state.strokes = EXAMPLES[state.exampleIndex++ % EXAMPLES.length].map((points) => ({ size: 20, points }));
  redraw();
  schedule(true);
}
$("example").addEventListener("click", drawExample);

// ------------------------------------------------------------------ requests

let inflight = false, pending = false, timer = null, lastSent = 0;

// Throttle: while drawing, at most one request every THROTTLE_MS; `now` (pointerup) sends at once.
// Only one request is in flight; drawing meanwhile marks it pending and sends the latest pad after.
function schedule(now) {
  if (inflight) { pending = true; return; }
  if (timer && !now) return;
  clearTimeout(timer);
  const wait = now ? 0 : Math.max(0, THROTTLE_MS - (performance.now() - lastSent));
  timer = setTimeout(sendPad, wait);
}

function padBlob() {
  const small = document.createElement("canvas");
  small.width = small.height = PAD;
  const c = small.getContext("2d");
  c.drawImage(pad, 0, 0, PAD, PAD);
  return new Promise((resolve) => small.toBlob(resolve, "image/png"));
}

async function sendPad() {
  timer = null;
  if (!state.strokes.length && !state.drawing) return;
  inflight = true;
  pending = false;
  lastSent = performance.now();
  try {
    const blob = await padBlob();
    const result = await postImage("api/activations", blob, "drawing.png");
    if (result && state.strokes.length + (state.drawing ? 1 : 0) > 0) showResult(result);
  } finally {
    inflight = false;
    if (pending) schedule(!state.drawing);
  }
}

async function postImage(url, blob, name) {
  const form = new FormData();
  form.append("file", blob, name);
  try {
    const response = await fetch(url, { method: "POST", body: form });
    const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
    if (!response.ok) { showError(body.error || `HTTP ${response.status}`); return null; }
    showError(null);
    return body;
  } catch (err) {
    showError(`Cannot reach the server (${err.message}).`);
    return null;
  }
}

function showError(message) {
  $("error").hidden = !message;
  $("error").textContent = message || "";
}

// ------------------------------------------------------------------ upload

const fileInput = $("file");
fileInput.addEventListener("change", () => { if (fileInput.files[0]) handleFile(fileInput.files[0]); });

const drop = $("drop-zone");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("dragging"); });
drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("dragging");
  const file = e.dataTransfer && e.dataTransfer.files[0];
  if (file) handleFile(file);
});

let photoUrl = null;
async function handleFile(file) {
  state.strokes = [];
  redraw();
  const img = $("photo");
  if (photoUrl) URL.revokeObjectURL(photoUrl);
  photoUrl = URL.createObjectURL(file);
  img.src = photoUrl;
  $("photo-figure").hidden = false;
  $("photo-boxes").textContent = "";
  $("photo-caption").textContent = `${file.name}: reading…`;
  const [result, reading] = await Promise.all([
    postImage("api/activations", file, file.name),
    state.readAvailable ? postImage("api/read", file, file.name) : Promise.resolve(null),
  ]);
  fileInput.value = "";
  try { await img.decode(); } catch (_) { /* an image the browser cannot show (e.g. TIFF): no boxes */ }
  if (!result) { $("photo-caption").textContent = `${file.name}: could not be read.`; return; }
  showResult(result);
  const boxes = reading && reading.boxes && reading.boxes.length > 1
    ? reading.boxes
    : result.box ? [{ box: result.box, digit: result.digit, confidence: result.confidence }] : [];
  drawBoxes(img, boxes);
  $("photo-caption").textContent = reading && reading.boxes && reading.boxes.length > 1
    ? `${file.name}: ${reading.boxes.length} digits found, read as “${reading.digits}”. The views show the most central reading as one digit.`
    : `${file.name}: the red box is the ink the network read; its 28×28 version is below.`;
}

function drawBoxes(img, boxes) {
  const layer = $("photo-boxes");
  layer.textContent = "";
  const w = img.naturalWidth, h = img.naturalHeight;
  if (!w || !h) return;
  for (const b of boxes) {
    const [l, t, r, btm] = b.box;
    const div = document.createElement("div");
    div.className = "photo-box";
    Object.assign(div.style, {
      left: `${(l / w) * 100}%`, top: `${(t / h) * 100}%`,
      width: `${((r - l) / w) * 100}%`, height: `${((btm - t) / h) * 100}%`,
    });
    const label = document.createElement("span");
    label.textContent = b.digit === null || b.digit === undefined ? "?" : `${b.digit} · ${pct(b.confidence)}`;
    div.appendChild(label);
    layer.appendChild(div);
  }
}

function hidePhoto() {
  $("photo-figure").hidden = true;
}

// ------------------------------------------------------------------ result

function buildBars() {
  const ol = $("bars");
  for (let d = 0; d < 10; d++) {
    const li = document.createElement("li");
    li.innerHTML = `<span>${d}</span><span class="track" aria-hidden="true"><span class="fill"></span></span><span class="pct">–</span>`;
    ol.appendChild(li);
  }
}

function resetResult() {
  clearTimeout(timer);
  timer = null;
  $("digit").textContent = "–";
  $("confidence").textContent = "Draw something to start.";
  $("verdict").classList.remove("not-digit");
  for (const li of $("bars").children) {
    li.classList.remove("top");
    li.querySelector(".fill").style.width = "0";
    li.querySelector(".pct").textContent = "–";
  }
  drawGray($("seen"), new Float32Array(784));
  state.input = null;
  for (const layer of state.layers) layer.values.fill(0);
  renderNetwork();
  showError(null);
}

function showResult(r) {
  const verdict = $("verdict");
  if (r.digit === null) {
    verdict.classList.add("not-digit");
    $("digit").textContent = "Not a digit";
    $("confidence").textContent = r.reason || "";
  } else {
    verdict.classList.remove("not-digit");
    $("digit").textContent = String(r.digit);
    $("confidence").textContent = `${pct(r.confidence)} sure`;
  }
  const bars = $("bars").children;
  for (let d = 0; d < 10; d++) {
    const p = (r.probabilities || [])[d] || 0;  // null for a blank image or an error
    bars[d].classList.toggle("top", d === r.digit);
    bars[d].querySelector(".fill").style.width = `${p * 100}%`;
    bars[d].querySelector(".pct").textContent = pct(p);
  }
  state.input = Float32Array.from(r.preprocessed.flat());
  drawGray($("seen"), state.input);
  if (r.layers) {
    state.layers = r.layers.map(decodeLayer);
    state.probabilities = r.probabilities;
    renderNetwork();
  }
}

function drawGray(canvas, values) {
  const c = canvas.getContext("2d");
  const img = c.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const g = Math.round(values[i] * 255);
    img.data.set([g, g, g, 255], i * 4);
  }
  c.putImageData(img, 0, 0);
}

// ------------------------------------------------------------------ network view

function decodeLayer(l) {
  const bytes = Uint8Array.from(atob(l.data), (ch) => ch.charCodeAt(0));
  const scale = (l.max - l.min) / 255;
  const values = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) values[i] = l.min + bytes[i] * scale;
  return { name: l.name, type: l.type, shape: l.shape, parameters: l.parameters, patch: l.patch || null, min: l.min, max: l.max, values };
}

// A layer's geometry on screen: maps (C, H, W); vectors become one tall 4-wide map; the last layer is bars.
function geometry(layer, isLast) {
  if (isLast) return { kind: "bars" };
  if (layer.shape.length === 3) return { kind: "maps", c: layer.shape[0], h: layer.shape[1], w: layer.shape[2] };
  const n = layer.shape[0];
  return { kind: "vector", c: 1, h: Math.ceil(n / 4), w: 4, n };
}

function renderNetwork() {
  const net = $("network");
  const key = state.layers.map((l) => `${l.name}:${l.shape}`).join("|");
  if (key !== state.layoutKey) buildNetwork(net, key);
  paintMap(net.querySelector('[data-layer="input"] canvas'), state.input || new Float32Array(784), 0, 784, 0, 1);
  state.layers.forEach((layer, i) => {
    const g = geometry(layer, i === state.layers.length - 1);
    const col = net.querySelector(`[data-layer="${layer.name}"]`);
    if (g.kind === "bars") return paintBars(col, layer);
    const size = g.h * g.w;
    col.querySelectorAll("canvas").forEach((cv, ch) => paintMap(cv, layer.values, ch * size, size, layer.min, layer.max, g.n));
  });
}

function paintMap(canvas, values, offset, size, lo, hi, n) {
  const c = canvas.getContext("2d");
  const img = c.createImageData(canvas.width, canvas.height);
  for (let i = 0; i < size; i++) {
    const inside = n === undefined || i < n;
    const [r, g, b] = inside ? colour(values[offset + i] || 0, lo, hi) : [40, 40, 40];
    img.data[i * 4] = r; img.data[i * 4 + 1] = g; img.data[i * 4 + 2] = b; img.data[i * 4 + 3] = 255;
  }
  c.putImageData(img, 0, 0);
}

function paintBars(col, layer) {
  const probs = state.probabilities || [];
  const top = probs.length ? probs.indexOf(Math.max(...probs)) : -1;
  col.querySelectorAll("li").forEach((li, d) => {
    const p = probs[d] || 0;
    li.classList.toggle("top", d === top && p > 0);
    li.querySelector(".fill").style.width = `${p * 100}%`;
    li.querySelector(".v").textContent = fmt(layer.values[d] || 0);
    li.title = d < 10 ? `digit ${d}: logit ${fmt(layer.values[d] || 0)}, probability ${pct(p)}` : `not a digit: logit ${fmt(layer.values[d] || 0)}`;
  });
}

function header(name, detail, extra) {
  const h = document.createElement("header");
  h.innerHTML = `<b></b><span></span><span></span>`;
  h.children[0].textContent = name;
  h.children[1].textContent = detail;
  h.children[2].textContent = extra;
  return h;
}

function buildNetwork(net, key) {
  state.layoutKey = key;
  net.textContent = "";
  const input = column("input", "input", "28×28 image", "what the network sees", "input");
  input.appendChild(mapsGrid("input", 1, 28, 28, "input"));
  net.appendChild(input);
  state.layers.forEach((layer, i) => {
    const arrow = document.createElement("div");
    arrow.className = "arrow";
    arrow.setAttribute("aria-hidden", "true");
    arrow.textContent = "→";
    arrow.dataset.type = layer.type;
    net.appendChild(arrow);
    const g = geometry(layer, i === state.layers.length - 1);
    const params = layer.parameters ? `${layer.parameters.toLocaleString()} params` : "no params";
    const shape = layer.shape.join("×") + (g.kind === "bars" ? " → softmax" : "");
    const col = column(layer.name, layer.name, `${layer.type} · ${shape}`, params, g.kind === "vector" ? "dense" : g.kind);
    col.dataset.type = layer.type;
    if (g.kind === "bars") col.appendChild(outBars(layer));
    else col.appendChild(mapsGrid(layer.name, g.c, g.h, g.w, g.kind));
    net.appendChild(col);
  });
}

function column(name, title, detail, extra, kind) {
  const col = document.createElement("section");
  col.className = `layer layer-${kind}`;
  col.dataset.layer = name;
  col.setAttribute("aria-label", `${title}: ${detail}, ${extra}`);
  col.appendChild(header(title, detail, extra));
  return col;
}

function outBars(layer) {
  const ol = document.createElement("ol");
  ol.className = "out-bars";
  ol.setAttribute("aria-label", `${layer.name} logits and softmax probabilities`);
  for (let d = 0; d < layer.shape[0]; d++) {
    const li = document.createElement("li");
    // Models trained with a "not a digit" class have an 11th output.
    const label = d < 10 ? String(d) : "✗";
    li.innerHTML = `<span></span><span class="track" aria-hidden="true"><span class="fill"></span></span><span class="v">0</span>`;
    li.firstChild.textContent = label;
    if (d >= 10) li.title = "not a digit";
    ol.appendChild(li);
  }
  return ol;
}

function mapsGrid(name, channels, h, w, kind) {
  const grid = document.createElement("div");
  grid.className = "maps";
  if (channels === 1) grid.style.gridTemplateColumns = "auto";
  for (let ch = 0; ch < channels; ch++) {
    const cell = document.createElement("div");
    cell.className = "map-cell";
    cell.tabIndex = 0;
    cell.dataset.channel = ch;
    const label = kind === "input" ? "input image, 28 by 28" : kind === "vector" ? `${name}, ${h * w} units` : `${name} map ${ch + 1} of ${channels}, ${h} by ${w}`;
    cell.setAttribute("aria-label", label);
    const cv = document.createElement("canvas");
    cv.className = "map";
    cv.width = w;
    cv.height = h;
    if (kind === "maps") cv.style.width = cv.style.height = `${Math.min(40, Math.max(28, h * 3))}px`;
    cell.appendChild(cv);
    cell.addEventListener("pointermove", (e) => {
      const r = cv.getBoundingClientRect();
      const row = Math.min(h - 1, Math.floor(((e.clientY - r.top) / r.height) * h));
      const col = Math.min(w - 1, Math.floor(((e.clientX - r.left) / r.width) * w));
      inspect(name, ch, row, col, e.clientX, e.clientY);
    });
    cell.addEventListener("pointerleave", hideInspect);
    cell.addEventListener("blur", hideInspect);
    cell.addEventListener("focus", () => { cell.cursor = cell.cursor || [0, 0]; inspectAt(cell, name, ch); });
    cell.addEventListener("keydown", (e) => {
      const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      if (!moves[e.key]) return;
      e.preventDefault();
      const [dr, dc] = moves[e.key];
      const [r0, c0] = cell.cursor || [0, 0];
      cell.cursor = [Math.max(0, Math.min(h - 1, r0 + dr)), Math.max(0, Math.min(w - 1, c0 + dc))];
      inspectAt(cell, name, ch);
    });
    grid.appendChild(cell);
  }
  return grid;
}

function inspectAt(cell, name, ch) {
  const r = cell.getBoundingClientRect();
  inspect(name, ch, cell.cursor[0], cell.cursor[1], r.right + 4, r.top);
}

// ------------------------------------------------------------------ hover: value and the window that feeds it

function layerByName(name) {
  if (name === "input") return { name: "input", shape: [1, 28, 28], values: state.input || new Float32Array(784), min: 0, max: 1 };
  return state.layers.find((l) => l.name === name);
}

function valueAt(layer, ch, row, col) {
  const [, h, w] = layer.shape.length === 3 ? layer.shape : [1, Math.ceil(layer.shape[0] / 4), 4];
  return layer.values[ch * h * w + row * w + col];
}

function mark(name, ch, row, col, size, cls) {
  const column = document.querySelector(`#network [data-layer="${name}"]`);
  if (!column) return;
  const cells = column.querySelectorAll(".map-cell");
  const targets = ch === null ? [...cells] : [cells[ch]];
  const layer = layerByName(name);
  const [, h, w] = layer.shape.length === 3 ? layer.shape : [1, Math.ceil(layer.shape[0] / 4), 4];
  for (const cell of targets) {
    if (!cell) continue;
    const m = document.createElement("div");
    m.className = `mark ${cls}`;
    Object.assign(m.style, {
      left: `${(col / w) * 100}%`, top: `${(row / h) * 100}%`, width: `${(size / w) * 100}%`, height: `${(size / h) * 100}%`,
    });
    cell.appendChild(m);
  }
}

function hideInspect() {
  document.querySelectorAll("#network .mark").forEach((m) => m.remove());
  $("tooltip").hidden = true;
}

function inspect(name, ch, row, col, x, y) {
  hideInspect();
  const layer = layerByName(name);
  if (!layer) return;
  const tip = $("tooltip");
  const v = valueAt(layer, ch, row, col);
  const isVector = layer.shape.length === 1;
  const index = row * 4 + col;
  if (isVector && index >= layer.shape[0]) return;
  let html = isVector
    ? `<b>${name}</b> unit ${index + 1} of ${layer.shape[0]} = <b>${fmt(v)}</b>`
    : name === "input"
      ? `<b>input</b> pixel (row ${row}, col ${col}) = <b>${fmt(v)}</b>`
      : `<b>${name}</b> map ${ch + 1}, row ${row}, col ${col} = <b>${fmt(v)}</b>`;
  mark(name, isVector ? 0 : ch, row, col, 1, "");
  const p = layer.patch;
  if (p) {
    const below = layerByName(p.from);
    const r0 = row * p.stride, c0 = col * p.stride, k = p.kernel;
    if (p.channels === "same" || below.shape[0] === 1) {
      const bch = p.channels === "same" ? ch : 0;
      html += `<br>${layer.type.includes("Pool") ? "max of" : "weighted sum of"} this ${k}×${k} window of ${p.from}` +
        (layer.type.includes("Conv") ? " (+ bias):" : ":") + patchTable(below, bch, r0, c0, k);
      mark(p.from, below.shape[0] === 1 ? 0 : bch, r0, c0, k, "source");
    } else {
      html += `<br>weighted sum of this ${k}×${k} window in all ${below.shape[0]} ${p.from} maps (+ bias), highlighted in yellow:`;
      html += `<canvas id="tip-patches"></canvas>`;
      mark(p.from, null, r0, c0, k, "source");
    }
  } else if (isVector && name !== "input") {
    html += `<br><span class="small">each unit combines every value of the layer before it.</span>`;
  }
  tip.innerHTML = html;
  const patches = $("tip-patches");
  if (patches) paintPatches(patches, layerByName(p.from), row * p.stride, col * p.stride, p.kernel);
  tip.hidden = false;
  const pad = 14, box = tip.getBoundingClientRect();
  tip.style.left = `${Math.min(x + pad, window.innerWidth - box.width - 4)}px`;
  tip.style.top = `${Math.min(y + pad, window.innerHeight - box.height - 4)}px`;
}

function patchTable(layer, ch, r0, c0, k) {
  let rows = "";
  for (let r = r0; r < r0 + k; r++) {
    let cells = "";
    for (let c = c0; c < c0 + k; c++) {
      const v = valueAt(layer, ch, r, c);
      const [R, G, B] = colour(v, layer.min, layer.max);
      const light = R * 0.3 + G * 0.6 + B * 0.1 > 140;
      cells += `<td style="background:rgb(${R},${G},${B});color:${light ? "#000" : "#fff"}">${fmt(v)}</td>`;
    }
    rows += `<tr>${cells}</tr>`;
  }
  return `<table aria-label="${k} by ${k} window">${rows}</table>`;
}

function paintPatches(canvas, layer, r0, c0, k) {
  const channels = layer.shape[0], perRow = 8, cell = k * 6, gap = 3;
  canvas.width = perRow * (cell + gap);
  canvas.height = Math.ceil(channels / perRow) * (cell + gap);
  const c = canvas.getContext("2d");
  for (let ch = 0; ch < channels; ch++) {
    const ox = (ch % perRow) * (cell + gap), oy = Math.floor(ch / perRow) * (cell + gap);
    for (let r = 0; r < k; r++) {
      for (let cc = 0; cc < k; cc++) {
        const [R, G, B] = colour(valueAt(layer, ch, r0 + r, c0 + cc), layer.min, layer.max);
        c.fillStyle = `rgb(${R},${G},${B})`;
        c.fillRect(ox + cc * 6, oy + r * 6, 6, 6);
      }
    }
  }
}

// ------------------------------------------------------------------ start

async function start() {
  buildBars();
  setupPad();
  const relu = $("show-relu");
  const showRelu = () => $("network").classList.toggle("hide-relu", !relu.checked);
  relu.addEventListener("change", showRelu);
  showRelu();
  window.addEventListener("resize", setupPad);
  try {
    const [health, model] = await Promise.all([fetch("api/health").then((r) => r.json()), fetch("api/model").then((r) => r.json())]);
    state.readAvailable = !!health.read;
    const acc = model.metrics && model.metrics.test_accuracy;
    $("model-info").textContent = `Model “${model.name}” (${model.architecture}): ${model.parameters.toLocaleString()} parameters` +
      (acc ? `, ${(acc * 100).toFixed(2)}% accurate on the 10,000 MNIST test digits.` : ".");
    // Lay the network out before the first drawing, from the model's own layer table.
    state.layers = model.layers
      .filter((l) => l.type !== "Dropout" && l.type !== "Flatten")
      .map((l) => ({ name: l.name, type: l.type, shape: l.output_shape, parameters: l.parameters, patch: null,
        min: 0, max: 1, values: new Float32Array(l.output_shape.reduce((a, b) => a * b, 1)) }));
    renderNetwork();
  } catch (err) {
    showError(`Cannot reach the server (${err.message}).`);
  }
}

start();
