// The network view: one column per shown layer (from the model's table), maps painted from state.layers.
// Each layer's maps are ONE tab stop; arrow keys move a cursor cell inside it (see inspect.js).

import { $, el, fmt, paintMap, pct } from "./util.js";
import { grid, state } from "./state.js";

let handlers = null; // {inspect(name, ch, row, col, anchor), hide(), visible(names)}

function header(layer, kind) {
  const params = layer.parameters ? `${layer.parameters.toLocaleString()} params` : "no params";
  const shape = layer.shape.join("×") + (kind === "bars" ? " → softmax" : "");
  return el("header", {}, [el("b", { text: layer.name }), el("span", { text: `${layer.type} · ${shape}` }), el("span", { text: params })]);
}

function explanation(layer) {
  const e = layer.explain;
  if (!e) return el("p", { class: "explain", text: "The 28×28 gray image, 0 (black) to 1 (white): 784 numbers." });
  return el("p", { class: "explain" }, [e.what, " ", el("span", { class: "shape", text: e.shape }), " ", el("span", { class: "arith", text: e.parameters })]);
}

function outBars(layer) {
  const ol = el("ol", { class: "out-bars", "aria-label": `${layer.name}: logits and softmax probabilities` });
  for (let d = 0; d < layer.shape[0]; d++) {
    // Models trained with a "not a digit" class have an 11th output.
    const li = el("li", {}, [el("span", { text: d < 10 ? String(d) : "✗" }), el("span", { class: "track", "aria-hidden": "true" }, [el("span", { class: "fill" })]), el("span", { class: "v", text: "0" })]);
    if (d >= 10) li.classList.add("nondigit");
    ol.append(li);
  }
  return ol;
}

const MAX_ROWS = 16; // rows of maps in one layer's column, at most

function mapsGrid(layer, kind) {
  const [c, h, w] = grid(layer);
  const box = el("div", { class: "maps", tabindex: "0", role: "group" });
  box.setAttribute("aria-label", kind === "input" ? "input image, 28 by 28: arrow keys move over its pixels"
    : kind === "dense" ? `${layer.name}: ${layer.shape[0]} units in rows of 4; arrow keys move over them`
      : `${layer.name}: ${c} maps of ${h} by ${w}; arrow keys move over the cells, Page Up and Page Down change map`);
  if (c === 1) box.style.gridTemplateColumns = "auto";
  // Past 64 maps, more columns rather than more rows: one 128-map column four wide stood twice as tall as the
  // rest and left a tall empty band under the layers in view.
  else if (kind === "maps" && c > MAX_ROWS * 4) box.style.gridTemplateColumns = `repeat(${Math.ceil(c / MAX_ROWS)}, auto)`;
  const side = kind === "maps" ? Math.min(34, Math.max(24, h * 2)) : null;
  for (let ch = 0; ch < c; ch++) {
    const cv = el("canvas", { class: "map" });
    cv.width = w; cv.height = h;
    cv.dataset.channel = ch;
    if (side) cv.style.width = cv.style.height = `${side}px`;
    box.append(el("div", { class: "map-cell" }, [cv]));
  }
  box.cursor = [0, 0, 0];
  const cellAt = (e) => {
    const cv = e.target.closest && e.target.closest(".map-cell") && e.target.closest(".map-cell").querySelector("canvas");
    if (!cv) return null;
    const r = cv.getBoundingClientRect();
    const row = Math.max(0, Math.min(h - 1, Math.floor(((e.clientY - r.top) / r.height) * h)));
    const col = Math.max(0, Math.min(w - 1, Math.floor(((e.clientX - r.left) / r.width) * w)));
    return [Number(cv.dataset.channel), row, col];
  };
  const show = () => handlers.inspect(layer.name, ...box.cursor, box.children[box.cursor[0]]);
  box.addEventListener("pointermove", (e) => {
    if (e.pointerType === "touch") return;
    const at = cellAt(e);
    if (at) { box.cursor = at; show(); }
  });
  // A tap picks the tapped cell: the focus that follows it shows that cell, not the old cursor.
  box.addEventListener("pointerdown", (e) => { const at = cellAt(e); if (at) { box.cursor = at; show(); } });
  box.addEventListener("pointerleave", (e) => { if (e.pointerType !== "touch" && document.activeElement !== box) handlers.hide(); });
  box.addEventListener("focus", show);
  box.addEventListener("blur", handlers.hide);
  box.addEventListener("keydown", (e) => {
    const [ch, row, col] = box.cursor;
    const moves = { ArrowUp: [0, -1, 0], ArrowDown: [0, 1, 0], ArrowLeft: [0, 0, -1], ArrowRight: [0, 0, 1], PageUp: [-1, 0, 0], PageDown: [1, 0, 0] };
    if (e.key === "Escape") { handlers.hide(); return; }
    if (!moves[e.key]) return;
    e.preventDefault();
    const [dc, dr, dk] = moves[e.key];
    let [nc, nr, nk] = [ch + dc, row + dr, col + dk];
    // Past a map's right or left edge, the cursor continues into the next or previous map.
    if (nk >= w && ch < c - 1) { nc = ch + 1; nk = 0; }
    if (nk < 0 && ch > 0) { nc = ch - 1; nk = w - 1; }
    box.cursor = [Math.max(0, Math.min(c - 1, nc)), Math.max(0, Math.min(h - 1, nr)), Math.max(0, Math.min(w - 1, nk))];
    show();
  });
  return box;
}

function column(layer, kind) {
  const col = el("section", { class: `layer layer-${kind}`, "aria-label": `${layer.name}, ${layer.type}` });
  col.dataset.layer = layer.name;
  col.dataset.type = layer.type;
  col.append(header(layer, kind), explanation(layer));
  col.append(kind === "bars" ? outBars(layer) : mapsGrid(layer, kind));
  return col;
}

export function kindOf(layer, isLast) {
  if (isLast) return "bars";
  return layer.shape.length === 3 ? "maps" : "dense";
}

// Build the columns for state.layers (input first); `h` = {inspect, hide, visible}.
export function buildNetwork(net, h) {
  handlers = h;
  net.textContent = "";
  net.append(column({ name: "input", type: "input", shape: [1, 28, 28] }, "input"));
  state.layers.forEach((layer, i) => {
    net.append(el("div", { class: "arrow", "aria-hidden": "true", text: "→" }));
    net.lastChild.dataset.type = layer.type;
    net.append(column(layer, kindOf(layer, i === state.layers.length - 1)));
  });
  watchVisibility(net);
}

let observer = null;
// Which layers' maps are on screen (in the window, and not scrolled away inside the panel): only those are
// fetched while drawing; scrolling one into view fetches it for the current digit (bandwidth).
function watchVisibility(net) {
  if (observer) observer.disconnect();
  state.onScreen = new Set();
  observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const name = e.target.closest(".layer").dataset.layer;
      if (e.isIntersecting) state.onScreen.add(name);
      else state.onScreen.delete(name);
    }
    handlers.visible();
  }, { root: null, rootMargin: "100px" });
  net.querySelectorAll(".maps, .out-bars").forEach((c) => observer.observe(c));
}

export function renderNetwork(net) {
  const input = net.querySelector('[data-layer="input"] canvas');
  if (input) paintMap(input, state.input || new Float32Array(784), 0, 784, 0, 1);
  state.layers.forEach((layer, i) => {
    const col = net.querySelector(`[data-layer="${layer.name}"]`);
    if (!col) return;
    col.classList.toggle("stale", !!layer.stale);
    if (i === state.layers.length - 1) return paintBars(col, layer);
    const [, h, w] = grid(layer);
    const n = layer.shape.length === 1 ? layer.shape[0] : undefined;
    col.querySelectorAll("canvas").forEach((cv, ch) => paintMap(cv, layer.values, ch * h * w, h * w, layer.min, layer.max, n));
  });
}

function paintBars(col, layer) {
  const r = state.result;
  const probs = r && r.probabilities ? [...r.probabilities] : [];
  if (r && r.nondigit !== undefined && r.nondigit !== null) probs[10] = r.nondigit;
  const refused = r && r.digit === null;
  col.querySelectorAll("li").forEach((li, d) => {
    const p = probs[d] || 0;
    const value = layer.values[d] || 0;
    li.classList.toggle("top", !!r && (refused ? d === 10 : d === r.digit));
    li.querySelector(".fill").style.width = `${p * 100}%`;
    li.querySelector(".v").textContent = fmt(value);
    li.title = d < 10 ? `digit ${d}: logit ${fmt(value)}, probability ${pct(p)}` : `not a digit: logit ${fmt(value)}, probability ${pct(p)}`;
  });
}

export function showRelu(net, on) { net.classList.toggle("hide-relu", !on); }
export function columnShown(name) {
  const col = $("network").querySelector(`[data-layer="${name}"]`);
  return !!col && col.offsetParent !== null;
}
