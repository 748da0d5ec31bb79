// Hover, focus or tap a cell: its value (exact, fetched on demand) and the window of the layer below
// that feeds it, drawn on the nearest VISIBLE layer (hidden ReLU columns pass their window through).

import { $, colour, el, fmt } from "./util.js";
import { grid, layerByName, state, valueAt } from "./state.js";
import { columnShown } from "./network.js";

let current = null;   // [name, ch, row, col, anchor] of the inspected cell
let exactHook = null; // (names) => Promise: fetch exact values for these layers

export function setExactFetcher(fetcher) { exactHook = fetcher; }

// The layer whose column shows `name`'s cells: itself, or, while it is hidden, the layer feeding it
// through 1x1 same-map windows (ReLU, batch norm), which has the same geometry.
export function visibleSource(name) {
  let layer = layerByName(name);
  while (layer && layer.name !== "input" && !columnShown(layer.name)) {
    const w = layer.window;
    if (!w || w.kernel !== 1 || w.stride !== 1 || w.channels !== "same") break;
    layer = layerByName(w.from);
  }
  return layer ? layer.name : name;
}

function mark(name, ch, row, col, size, cls) {
  const column = $("network").querySelector(`[data-layer="${name}"]`);
  const layer = layerByName(name);
  if (!column || !layer) return;
  const [, h, w] = grid(layer);
  const cells = column.querySelectorAll(".map-cell");
  // Clip a padded window to the map.
  const r0 = Math.max(0, row), c0 = Math.max(0, col), r1 = Math.min(h, row + size), c1 = Math.min(w, col + size);
  for (const cell of ch === null ? [...cells] : [cells[ch]]) {
    if (!cell) continue;
    const m = el("div", { class: `mark ${cls}` });
    Object.assign(m.style, { left: `${(c0 / w) * 100}%`, top: `${(r0 / h) * 100}%`, width: `${((c1 - c0) / w) * 100}%`, height: `${((r1 - r0) / h) * 100}%` });
    cell.append(m);
  }
}

export function hideInspect() {
  current = null;
  document.querySelectorAll("#network .mark").forEach((m) => m.remove());
  $("tooltip").hidden = true;
}

function exact(name) {
  const layer = layerByName(name);
  if (!layer || name === "input") return layer ? layer.values : null;
  if (state.exact.has(name)) return state.exact.get(name);
  return layer.fetched && layer.step === 0 && !layer.stale ? layer.values : null; // sent as float32, or all one value
}

function valueText(layer, ch, row, col) {
  const values = exact(layer.name);
  if (values) return `<b>${fmt4(valueAt(layer, ch, row, col, values))}</b> <span class="small">(exact)</span>`;
  return `≈ <b>${fmt(valueAt(layer, ch, row, col))}</b> <span class="small">(rounded, ±${fmt4(layer.step / 2)}; exact value loading…)</span>`;
}
function fmt4(v) { return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4); }

function windowTable(layer, ch, r0, c0, k, op) {
  const values = exact(layer.name) || layer.values;
  let best = null;
  if (op === "max") {
    for (let r = r0; r < r0 + k; r++) for (let c = c0; c < c0 + k; c++) {
      const v = valueAt(layer, ch, r, c, values);
      if (best === null || v > best[0]) best = [v, r, c];
    }
  }
  const [, h, w] = grid(layer);
  let rows = "";
  for (let r = r0; r < r0 + k; r++) {
    let cells = "";
    for (let c = c0; c < c0 + k; c++) {
      const outside = r < 0 || c < 0 || r >= h || c >= w;
      const v = valueAt(layer, ch, r, c, values);
      const [R, G, B] = colour(v, layer.min, layer.max);
      const light = R * 0.3 + G * 0.6 + B * 0.1 > 140;
      const isMax = best && best[1] === r && best[2] === c;
      cells += `<td class="${outside ? "pad" : ""}${isMax ? " max" : ""}" style="background:rgb(${R},${G},${B});color:${light ? "#000" : "#fff"}">${outside ? "0" : fmt(v)}</td>`;
    }
    rows += `<tr>${cells}</tr>`;
  }
  return `<table aria-label="${k} by ${k} window${op === "max" ? ", largest value marked" : ""}">${rows}</table>`;
}

function paintPatches(canvas, layer, r0, c0, k) {
  const channels = layer.shape[0], perRow = 8, px = Math.max(2, Math.min(6, Math.floor(24 / k))), cell = k * px, gap = 3;
  canvas.width = perRow * (cell + gap);
  canvas.height = Math.ceil(channels / perRow) * (cell + gap);
  const c = canvas.getContext("2d");
  for (let ch = 0; ch < channels; ch++) {
    const ox = (ch % perRow) * (cell + gap), oy = Math.floor(ch / perRow) * (cell + gap);
    for (let r = 0; r < k; r++) for (let cc = 0; cc < k; cc++) {
      const [R, G, B] = colour(valueAt(layer, ch, r0 + r, c0 + cc), layer.min, layer.max);
      c.fillStyle = `rgb(${R},${G},${B})`;
      c.fillRect(ox + cc * px, oy + r * px, px, px);
    }
  }
}

function describeWindow(layer, ch, row, col) {
  const w = layer.window;
  if (!w) return layer.shape.length === 1 && layer.name !== "input" ? `<br><span class="small">each unit combines every value of the layer before it.</span>` : "";
  const below = layerByName(w.from);
  if (!below) return "";
  const shownOn = visibleSource(w.from);
  const r0 = row * w.stride - w.padding, c0 = col * w.stride - w.padding, k = w.kernel;
  const where = shownOn === w.from ? w.from : `${w.from} (marked on ${shownOn}, its hidden column's source)`;
  let html;
  if (w.channels === "same" || below.shape[0] === 1) {
    const bch = w.channels === "same" ? ch : 0;
    const verb = w.op === "max" ? "the largest value (marked) of" : w.op === "mean" ? "the mean of" : k === 1 ? "computed from" : "a weighted sum of";
    html = `<br>${verb} this ${k}×${k} window of ${where}${w.bias ? " (+ bias)" : ""}:` + windowTable(below, bch, r0, c0, k, w.op);
    mark(shownOn, below.shape[0] === 1 ? 0 : bch, r0, c0, k, "source");
  } else {
    html = `<br>a weighted sum of this ${k}×${k} window in all ${below.shape[0]} maps of ${where}${w.bias ? " (+ bias)" : ""}, highlighted in yellow:<canvas id="tip-patches"></canvas>`;
    mark(shownOn, null, r0, c0, k, "source");
  }
  if (w.padding) html += `<br><span class="small">cells outside the map are zero padding.</span>`;
  return html;
}

// Show cell (ch, row, col) of layer `name`, beside `anchor` (the map's element).
export function inspect(name, ch, row, col, anchor) {
  hideInspect();
  const layer = layerByName(name);
  if (!layer) return;
  const [, h, w] = grid(layer);
  const isVector = layer.shape.length === 1;
  const index = row * w + col;
  if (isVector && index >= layer.shape[0]) return;
  current = [name, ch, row, col, anchor];
  let html = isVector ? `<b>${name}</b> unit ${index + 1} of ${layer.shape[0]} = `
    : name === "input" ? `<b>input</b> pixel (row ${row}, col ${col}) = ` : `<b>${name}</b> map ${ch + 1}, row ${row}, col ${col} = `;
  html += valueText(layer, ch, row, col);
  mark(name, isVector ? 0 : ch, row, col, 1, "");
  html += describeWindow(layer, ch, row, col);
  const tip = $("tooltip");
  tip.innerHTML = html;
  const patches = $("tip-patches");
  if (patches) paintPatches(patches, layerByName(layer.window.from), row * layer.window.stride - layer.window.padding, col * layer.window.stride - layer.window.padding, layer.window.kernel);
  tip.hidden = false;
  place(tip, anchor);
  requestExact(layer);
}

// Absolute (document) coordinates beside the map: the tooltip scrolls with it and never sticks over the pad.
function place(tip, anchor) {
  const r = anchor.getBoundingClientRect(), box = tip.getBoundingClientRect();
  let left = r.right + 8;
  if (left + box.width > window.innerWidth - 4) left = Math.max(4, r.left - box.width - 8);
  let top = Math.max(4, Math.min(r.top, window.innerHeight - box.height - 4));
  tip.style.left = `${left + window.scrollX}px`;
  tip.style.top = `${top + window.scrollY}px`;
}

function requestExact(layer) {
  if (!exactHook || !state.source) return;
  const needed = new Set();
  const add = (l) => {
    if (!l || l.name === "input" || exact(l.name)) return;
    const name = l.derived && l.window ? l.window.from : l.name;
    if (!state.asking.has(name)) needed.add(name);
  };
  add(layer);
  if (layer.window) add(layerByName(layer.window.from));
  if (!needed.size) return;
  exactHook([...needed]).then((got) => { if (got && current) inspect(...current); });
}

export function refreshInspect() { if (current) inspect(...current); }
