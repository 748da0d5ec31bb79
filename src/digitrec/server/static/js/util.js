// Small shared helpers: DOM lookup, number formats, the activation colour scale.

export const $ = (id) => document.getElementById(id);

export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k in node && typeof v !== "string") node[k] = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

export function fmt(v) {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}
export function pct(p) { return (p * 100).toFixed(p >= 0.995 || p < 0.001 ? 0 : 1) + "%"; }

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
export function colour(v, lo, hi) {
  const span = lo < 0 ? Math.max(-lo, hi) : hi;
  if (span <= 0) return [0, 0, 0];
  const t = Math.min(1, Math.abs(v) / span);
  const lut = v < 0 ? NEG : POS;
  const i = Math.round(t * 255) * 3;
  return [lut[i], lut[i + 1], lut[i + 2]];
}

// Paint `size` values from `offset` into a canvas as the colour scale (cells past `n` grey).
export function paintMap(canvas, values, offset, size, lo, hi, n) {
  const c = canvas.getContext("2d");
  const img = c.createImageData(canvas.width, canvas.height);
  for (let i = 0; i < size; i++) {
    const inside = n === undefined || i < n;
    const [r, g, b] = inside ? colour(values[offset + i] || 0, lo, hi) : [40, 40, 40];
    img.data[i * 4] = r; img.data[i * 4 + 1] = g; img.data[i * 4 + 2] = b; img.data[i * 4 + 3] = 255;
  }
  c.putImageData(img, 0, 0);
}

export function drawGray(canvas, values) {
  const c = canvas.getContext("2d");
  const img = c.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const g = Math.round(values[i] * 255);
    img.data.set([g, g, g, 255], i * 4);
  }
  c.putImageData(img, 0, 0);
}
