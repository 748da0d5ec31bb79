// digitrec drawing page: draw or upload a digit, watch it flow through the network, learn what each layer does.
// ES modules, no build step, no dependencies; talks to the JSON API under ./api/ (see js/api.js).

import { $ } from "./js/util.js";
import { ApiError, getJSON, isStale, listModels, postImage, setModel } from "./js/api.js";
import { createPad } from "./js/pad.js";
import { applyLayers, decode, deriveValues, emptyLayers, state } from "./js/state.js";
import { buildNetwork, columnShown, renderNetwork, showRelu } from "./js/network.js";
import { hideInspect, inspect, refreshInspect, setExactFetcher } from "./js/inspect.js";
import { buildBars, resetResult, showLine, showResult } from "./js/result.js";
import { captionFailed, drawBoxes, hidePhoto, showPhoto } from "./js/upload.js";
import { refreshFilterMap, setupFilterEvents, showCurves, showFilters } from "./js/teach.js";

const THROTTLE_MS = 150; // at most one request per 150 ms while drawing
// Layer data (base64 characters, before gzip) that live updates of one drawn digit may fetch while the pen
// is down; past it, live updates carry only the outputs and the maps catch up when the pen lifts. Keeps a
// slowly drawn digit on a big model under 2 MB on the wire.
const LIVE_BUDGET = 1_500_000;
let liveBytes = 0;
const net = $("network");

// True while a chosen model's description is on its way: the layers on screen are still the old model's, so
// nothing is sent until it arrives (switchModel then reads the drawing or upload again for the new model).
let switching = false;

function showError(message) {
  $("error").hidden = !message;
  $("error").textContent = message || "";
}

// An answer for a model no longer chosen is dropped without a word; anything else is shown.
function report(err) {
  if (!isStale(err)) showError(err instanceof ApiError ? err.message : String(err));
}

// ------------------------------------------------------------------ which layers to fetch

// Only the layers on screen are sent (plus the output bars); ReLU columns are computed here.
function wantedLayers(live = false) {
  const names = new Set();
  const last = state.layers[state.layers.length - 1];
  if (last) names.add(last.name);
  if (live && liveBytes > LIVE_BUDGET) return [...names].join(",");
  for (const layer of state.layers) {
    if (!state.onScreen || !state.onScreen.has(layer.name) || !columnShown(layer.name)) continue;
    names.add(layer.derived && layer.window ? layer.window.from : layer.name);
  }
  return [...names].join(",");
}

function newSource(blob, name) {
  state.source = { blob, name };
  state.exact = new Map();
  state.asking = new Set();
  state.generation += 1;
}

function take(result) {
  showResult(result);
  applyLayers(result.layers || []);
  renderNetwork(net);
  refreshFilterMap();
  refreshInspect();
}

// ------------------------------------------------------------------ drawing

let inflight = false, pending = false, timer = null, lastSent = 0, lastSize = 0;

// Throttle: while drawing, at most one request every THROTTLE_MS, longer for big answers (about 200 kB/s of
// base64 at most, so a drawn digit stays under 2 MB on big models); `now` (pointerup) sends at once.
// Only one request is in flight; drawing meanwhile marks it pending and sends the latest pad after.
// The verdict says aria-busy while a read of the pad is waiting or out (screen readers, and tests wait on it).
function busy(on) { $("verdict").setAttribute("aria-busy", on ? "true" : "false"); }

function schedule(now) {
  busy(true);
  if (inflight) { pending = true; return; }
  if (timer && !now) return;
  clearTimeout(timer);
  const gap = Math.max(THROTTLE_MS, lastSize / 200);
  const wait = now ? 0 : Math.max(0, gap - (performance.now() - lastSent));
  timer = setTimeout(sendPad, wait);
}

async function sendPad() {
  timer = null;
  if (pad.isEmpty() || switching) { busy(false); return; }
  inflight = true;
  pending = false;
  lastSent = performance.now();
  try {
    const blob = await pad.blob();
    if (switching) return; // the model changed meanwhile: switchModel sends the pad again
    newSource(blob, "drawing.png");
    const generation = state.generation;
    // While the pen is down, 4-bit values keep each drawn digit under 2 MB on big models; the final one is 8-bit.
    const live = pad.isDrawing();
    const result = await postImage("api/activations", blob, "drawing.png", { layers: wantedLayers(live), bits: live ? 4 : 8 });
    lastSize = (result.layers || []).reduce((n, l) => n + (l.data ? l.data.length : 0), 0);
    if (live) liveBytes += lastSize;
    if (!pad.isEmpty() && generation === state.generation) { showError(null); take(result); }
  } catch (err) {
    report(err);
  } finally {
    inflight = false;
    if (switching) return; // switchModel reads the pad again once the new model is in place
    if (pending) schedule(!pad.isDrawing());
    else { busy(timer !== null); fetchStale(); } // fetchStale: layers that came into view while this was out
  }
}

function clearAll() {
  clearTimeout(timer);
  timer = null;
  busy(false);
  liveBytes = 0;
  hidePhoto();
  state.source = null;
  state.generation += 1;
  resetResult();
  state.input = null;
  for (const layer of state.layers) { layer.values.fill(0); layer.stale = false; }
  hideInspect();
  renderNetwork(net);
  showError(null);
}

const pad = createPad($("pad"), $("pad-hint"), $("brush"), {
  start: () => { hidePhoto(); },
  change: (final) => schedule(final),
  empty: clearAll,
});

// ------------------------------------------------------------------ more layers, exact values

let moreTimer = null;
function fetchStale() {
  clearTimeout(moreTimer);
  moreTimer = setTimeout(async () => {
    if (!state.source || inflight || switching) return;
    const stale = state.layers.filter((l) => l.stale && !l.derived && state.onScreen.has(l.name) && columnShown(l.name)).map((l) => l.name);
    for (const l of state.layers) if (l.derived && l.stale && state.onScreen.has(l.name) && columnShown(l.name) && l.window) stale.push(l.window.from);
    if (!stale.length) return;
    const generation = state.generation;
    try {
      const r = await postImage("api/activations", state.source.blob, state.source.name, { layers: [...new Set(stale)].join(",") });
      if (generation !== state.generation) return;
      applyLayers(r.layers);
      renderNetwork(net);
      refreshInspect();
    } catch (err) { report(err); }
  }, 200);
}

// Exact float32 values of `names` for the current source; resolves true when they arrived (then re-inspect).
async function fetchExact(names) {
  const generation = state.generation, asking = state.asking;
  for (const n of names) asking.add(n);
  try {
    const r = await postImage("api/activations", state.source.blob, state.source.name, { layers: names.join(","), bits: 32 });
    if (generation !== state.generation) return false;
    for (const e of r.layers) if (e.data) state.exact.set(e.name, decode(e));
    for (const layer of state.layers) {
      const from = layer.window && state.exact.get(layer.window.from);
      if (layer.derived && from) state.exact.set(layer.name, deriveValues(layer, from));
    }
    return true;
  } catch (_) {
    return false; // the tooltip keeps the rounded value
  } finally {
    for (const n of names) asking.delete(n); // a later hover may ask again after a failure
  }
}
setExactFetcher(fetchExact);

// ------------------------------------------------------------------ upload

async function handleFile(file) {
  pad.clear();
  showError(null);
  const shown = await showPhoto(file);
  newSource(file, file.name);
  if (switching) { $("file").value = ""; return; } // switchModel reads it once the chosen model is in place
  const generation = state.generation;
  try {
    const [result, reading] = await Promise.all([
      postImage("api/activations", file, file.name, { layers: wantedLayers() }),
      postImage("api/read", file, file.name).catch(() => null),
    ]);
    if (generation !== state.generation) return;
    take(result);
    drawBoxes(file, shown, result, reading);
    if (reading && reading.boxes && reading.boxes.length > 1) showLine(reading);
    fetchStale();
  } catch (err) {
    if (generation !== state.generation || isStale(err)) return;
    const keep = state.source;
    clearAll(); // the previous answer must not stay on screen
    state.source = keep;
    $("photo-figure").hidden = false;
    captionFailed(file, err.message);
    showError(err.message);
    resetResult("No answer: the upload could not be read.");
  } finally {
    $("file").value = "";
  }
}

$("file").addEventListener("change", () => { if ($("file").files[0]) handleFile($("file").files[0]); });
const drop = $("drop-zone");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("dragging"); });
drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("dragging");
  const file = e.dataTransfer && e.dataTransfer.files[0];
  if (file) handleFile(file);
});

// ------------------------------------------------------------------ model

// Show model `name`. setModel aborts whatever was asked of the model before, and its late answers are dropped
// (StaleAnswer), so when several choices overlap the last one wins.
async function loadModel(name) {
  setModel(name);
  switching = true;
  state.generation += 1; // answers for the drawing or upload under the old model are stale too
  let model;
  try {
    model = await getJSON("api/model");
  } catch (err) {
    if (!isStale(err)) switching = false; // a later choice, if any, owns the flag
    throw err;
  }
  switching = false;
  state.model = model;
  const acc = model.metrics && model.metrics.test_accuracy;
  $("model-info").textContent = `Model “${model.name}” (${model.architecture}): ${(model.parameters || 0).toLocaleString()} parameters` +
    (acc ? `, ${(acc * 100).toFixed(2)}% accurate on the 10,000 MNIST test digits.` : ".");
  state.layers = emptyLayers(model.shown);
  buildBars(Math.max(10, Math.min(11, model.outputs || 10)));
  hideInspect();
  buildNetwork(net, { inspect, hide: hideInspect, visible: fetchStale });
  showFilters(model);
  showCurves(model);
  resetResult();
  renderNetwork(net);
  // Read what is on the pad or the upload again for this model (nothing was sent while it loaded).
  if (!pad.isEmpty()) { clearTimeout(timer); timer = null; schedule(true); }
  else if (state.source && state.source.blob instanceof File) handleFile(state.source.blob);
}

async function switchModel() {
  const name = $("model").value;
  try {
    await loadModel(name);
    showError(null);
  } catch (err) {
    report(err);
  }
}

// ------------------------------------------------------------------ start

async function start() {
  $("undo").addEventListener("click", () => { hidePhoto(); pad.undo(); });
  $("clear").addEventListener("click", () => pad.clear());
  $("example").addEventListener("click", () => pad.example());
  $("brush").addEventListener("input", () => { $("brush-value").textContent = $("brush").value; });
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z" && !(e.target instanceof HTMLInputElement)) {
      e.preventDefault();
      hidePhoto();
      pad.undo();
    }
  });
  const relu = $("show-relu");
  const toggle = () => { showRelu(net, relu.checked); hideInspect(); fetchStale(); };
  relu.addEventListener("change", toggle);
  showRelu(net, relu.checked);
  net.addEventListener("scroll", hideInspect, { passive: true });
  window.addEventListener("resize", () => pad.setup());
  setupFilterEvents();
  $("model").addEventListener("change", switchModel);
  try {
    const [health, models] = await Promise.all([getJSON("api/health"), listModels()]);
    const select = $("model");
    for (const m of models) {
      const label = m.name + (m.served ? " (served)" : "") + (m.default && !m.served ? " (default)" : "");
      select.append(new Option(label, m.name, m.served, m.served));
    }
    await loadModel(health.model);
  } catch (err) {
    report(err);
  }
}

start();
