// The page's one shared state object (plain data; modules read and write it).

export const state = {
  model: null,        // GET /api/model answer: name, shown layers (with windows and explanations), metrics, filters
  layers: [],         // shown layers: {name, type, shape, window, derived, min, max, values: Float32Array, stale}
  input: null,        // Float32Array(784): the 28x28 image the network saw
  result: null,       // the last prediction (without layers)
  source: null,       // {blob, name}: what was last sent, to fetch exact values or more layers for it
  exact: new Map(),   // layer name -> Float32Array of exact (float32) values for the current source
  asking: new Set(),  // layer names whose exact values are being fetched for the current source
  generation: 0,      // bumps with every new source, so late answers for an old one are dropped
};

export function layerByName(name) {
  if (name === "input") return { name: "input", type: "input", shape: [1, 28, 28], values: state.input || new Float32Array(784), min: 0, max: 1 };
  return state.layers.find((l) => l.name === name);
}

// [channels, height, width] of a layer as drawn: vectors are one map 4 cells wide.
export function grid(layer) {
  return layer.shape.length === 3 ? layer.shape : [1, Math.ceil(layer.shape[0] / 4), 4];
}

export function valueAt(layer, ch, row, col, values = layer.values) {
  const [, h, w] = grid(layer);
  if (row < 0 || col < 0 || row >= h || col >= w) return 0; // zero padding
  return values[ch * h * w + row * w + col];
}

// ReLU layers are never sent: their values are max(0, x) of the layer that feeds them.
export function deriveValues(layer, values) {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] > 0 ? values[i] : 0;
  return out;
}

export function decode(entry) {
  const bytes = Uint8Array.from(atob(entry.data), (ch) => ch.charCodeAt(0));
  if (entry.bits === 32) return new Float32Array(bytes.buffer);
  const scale = (entry.max - entry.min) / levels(entry);
  const n = entry.shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const q = entry.bits === 4 ? (i % 2 ? bytes[i >> 1] & 15 : bytes[i >> 1] >> 4) : bytes[i];
    values[i] = entry.min + q * scale;
  }
  return values;
}

function levels(entry) { return entry.bits === 4 ? 15 : 255;
}

// Lay out empty layers from the model's shown-layer table.
export function emptyLayers(shown) {
  return shown.map((l) => ({
    name: l.name, type: l.type, shape: l.output_shape, window: l.window, derived: l.derived, explain: l.explain,
    parameters: l.parameters, min: 0, max: 1, step: 0, stale: false, fetched: false,
    values: new Float32Array(l.output_shape.reduce((a, b) => a * b, 1)),
  }));
}

// Take an /api/activations answer's layers into state.layers (missing ones stay, marked stale).
export function applyLayers(entries) {
  const byName = new Map(entries.map((e) => [e.name, e]));
  for (const layer of state.layers) {
    const e = byName.get(layer.name);
    if (e && e.data) {
      layer.values = decode(e);
      layer.min = e.min; layer.max = e.max; layer.step = e.bits === 32 ? 0 : (e.max - e.min) / levels(e);
      layer.stale = false;
      layer.fetched = true;
    } else if (!layer.derived) {
      layer.stale = true;
    }
  }
  for (const layer of state.layers) {
    if (!layer.derived) continue;
    const from = layerByName(layer.window ? layer.window.from : "");
    if (!from) continue;
    layer.values = deriveValues(layer, from.values);
    layer.min = Math.max(0, from.min); layer.max = Math.max(0, from.max); layer.step = from.step;
    layer.stale = from.stale;
    layer.fetched = from.fetched;
  }
}
