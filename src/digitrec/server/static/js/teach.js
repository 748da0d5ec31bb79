// The lesson beside the network: the first convolution's learned filters (hover one to see its map),
// a slider through per-epoch snapshots when the model has them, and the training curves.

import { $, colour, el, fmt, paintMap } from "./util.js";
import { grid, layerByName, state } from "./state.js";

// Paint filter weights (length k*k) as a k x k image, blue negative, orange positive, on one shared scale.
function paintFilter(canvas, weights, span) {
  const k = Math.round(Math.sqrt(weights.length));
  canvas.width = canvas.height = k;
  const c = canvas.getContext("2d");
  const img = c.createImageData(k, k);
  weights.forEach((v, i) => {
    const [r, g, b] = colour(v, -span, span);
    img.data.set([r, g, b, 255], i * 4);
  });
  c.putImageData(img, 0, 0);
}

function spanOf(lists) {
  let m = 0;
  for (const l of lists) for (const v of l) m = Math.max(m, Math.abs(v));
  return m || 1;
}

let filterSet = null; // {layer, weights: [[k*k*c_in]...] (first input channel drawn)}

function firstChannel(weights, shape) {
  const k2 = shape[2] * shape[3];
  return weights.map((w) => w.slice(0, k2));
}

export function showFilters(model) {
  const box = $("filters");
  const section = $("filters-section");
  box.textContent = "";
  filterSet = null;
  $("snapshot-row").hidden = true;
  if (!model.filters) { section.hidden = true; return; }
  section.hidden = false;
  const f = model.filters;
  filterSet = { layer: f.layer, shape: f.shape, weights: firstChannel(f.weights, f.shape) };
  $("filters-title").textContent = `${f.layer}'s ${f.shape[0]} learned ${f.shape[2]}×${f.shape[3]} filters`;
  f.weights.forEach((_, i) => {
    const cv = el("canvas", { class: "filter" });
    cv.dataset.index = i;
    box.append(cv);
  });
  box.cursor = 0;
  paintFilters(filterSet.weights);
  setupSnapshots(model);
}

function paintFilters(weights) {
  const span = spanOf(weights);
  $("filters").querySelectorAll("canvas").forEach((cv, i) => paintFilter(cv, weights[i], span));
}

// Highlight filter i and its feature map in the network; show the map enlarged beside the filters.
function focusFilter(i) {
  const box = $("filters");
  box.querySelectorAll("canvas").forEach((cv, j) => cv.classList.toggle("picked", j === i));
  document.querySelectorAll("#network .map-cell.linked").forEach((c) => c.classList.remove("linked"));
  const col = document.querySelector(`#network [data-layer="${filterSet.layer}"]`);
  const cell = col && col.querySelectorAll(".map-cell")[i];
  if (cell) cell.classList.add("linked");
  const layer = layerByName(filterSet.layer);
  const out = $("filter-map");
  if (layer && layer.shape.length === 3) {
    const [, h, w] = grid(layer);
    out.width = w; out.height = h;
    paintMap(out, layer.values, i * h * w, h * w, layer.min, layer.max);
    out.hidden = false;
  }
  const weights = filterSet.weights[i];
  $("filter-caption").textContent = `Filter ${i + 1}: weights ${fmt(Math.min(...weights))} to ${fmt(Math.max(...weights))}. ` +
    `Its map in ${filterSet.layer} (right) is bright where the image looks like the filter's orange strokes.`;
}

function unfocusFilter() {
  $("filters").querySelectorAll("canvas.picked").forEach((cv) => cv.classList.remove("picked"));
  document.querySelectorAll("#network .map-cell.linked").forEach((c) => c.classList.remove("linked"));
}

export function setupFilterEvents() {
  const box = $("filters");
  box.addEventListener("pointerover", (e) => { if (e.target.dataset.index !== undefined) focusFilter(Number(e.target.dataset.index)); });
  box.addEventListener("pointerleave", unfocusFilter);
  box.addEventListener("focus", () => focusFilter(box.cursor || 0));
  box.addEventListener("blur", unfocusFilter);
  box.addEventListener("keydown", (e) => {
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -8, ArrowDown: 8 }[e.key];
    if (!step || !filterSet) return;
    e.preventDefault();
    box.cursor = Math.max(0, Math.min(filterSet.weights.length - 1, (box.cursor || 0) + step));
    focusFilter(box.cursor);
  });
  $("snapshot").addEventListener("input", showSnapshot);
}

// Re-paint the open filter's map after new activations arrive.
export function refreshFilterMap() {
  const picked = $("filters").querySelector("canvas.picked");
  if (picked) focusFilter(Number(picked.dataset.index));
}

let snapshots = null;
function setupSnapshots(model) {
  const s = model.snapshots;
  snapshots = null;
  if (!s || !filterSet || s.layer !== filterSet.layer || !Array.isArray(s.weights) || !s.weights.length) return;
  snapshots = { epochs: s.epochs, weights: s.weights.map((flat) => chunk(flat, s.shape)) };
  const slider = $("snapshot");
  slider.min = 0;
  slider.max = s.weights.length - 1;
  slider.value = s.weights.length - 1;
  $("snapshot-row").hidden = false;
  showSnapshot();
}

function chunk(flat, shape) {
  const per = shape[1] * shape[2] * shape[3], k2 = shape[2] * shape[3];
  const out = [];
  for (let i = 0; i < shape[0]; i++) out.push(flat.slice(i * per, i * per + k2));
  return out;
}

function showSnapshot() {
  if (!snapshots) return;
  const i = Number($("snapshot").value);
  const epoch = snapshots.epochs[i];
  $("snapshot-value").textContent = epoch === 0 ? "epoch 0 (random start)" : `after epoch ${epoch}`;
  paintFilters(snapshots.weights[i]);
}

// ------------------------------------------------------------------ training curves

function chart(svg, series, label) {
  const W = 260, H = 110, L = 34, B = 18, T = 8, R = 6;
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  const n = Math.max(...series.map((s) => s.values.length));
  if (!all.length || n < 1) { svg.innerHTML = ""; return; }
  let lo = Math.min(...all), hi = Math.max(...all);
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const x = (i) => L + (n === 1 ? (W - L - R) / 2 : (i / (n - 1)) * (W - L - R));
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  let html = `<title>${label}</title><line class="axis" x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}"/><line class="axis" x1="${L}" y1="${T}" x2="${L}" y2="${H - B}"/>`;
  html += `<text x="${L - 3}" y="${T + 8}" text-anchor="end">${fmt(hi)}</text><text x="${L - 3}" y="${H - B}" text-anchor="end">${fmt(lo)}</text>`;
  html += `<text x="${L}" y="${H - 4}">epoch 1</text><text x="${W - R}" y="${H - 4}" text-anchor="end">${n}</text>`;
  for (const s of series) {
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    html += `<polyline class="${s.cls}" points="${pts}"><title>${s.name}</title></polyline>`;
    s.values.forEach((v, i) => { html += `<circle class="${s.cls}" cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2"><title>${s.name}, epoch ${i + 1}: ${v.toFixed(4)}</title></circle>`; });
  }
  svg.innerHTML = html;
}

export function showCurves(model) {
  const history = (model.metrics && model.metrics.history) || [];
  $("curves-section").hidden = history.length === 0;
  if (!history.length) return;
  const col = (k) => history.map((e) => e[k]).filter((v) => typeof v === "number");
  chart($("curve-loss"), [{ name: "training loss", cls: "train", values: col("loss") }, { name: "validation loss", cls: "val", values: col("val_loss") }], "loss per epoch");
  chart($("curve-accuracy"), [{ name: "training accuracy", cls: "train", values: col("accuracy") }, { name: "validation accuracy", cls: "val", values: col("val_accuracy") }], "accuracy per epoch");
  const last = history[history.length - 1];
  $("curves-caption").textContent = `${history.length} epochs. Loss falls as the filters learn; validation accuracy ends at ` +
    `${((last.val_accuracy || 0) * 100).toFixed(2)}%. (Training accuracy is measured on augmented or dropped-out batches, so it can sit below validation.)`;
}
