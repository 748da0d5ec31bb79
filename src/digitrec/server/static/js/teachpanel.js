// The Teach panel: draw each digit a few times (or upload a photo of a filled teaching sheet), POST /api/teach,
// show the before/after figures it returns, and put the new personal model in the model switch.
// Its own module and pad: it never touches the main pad's requests, and reaches the rest of the page only
// through the #model select (a "change" event there makes app.js load the model, as a user's pick would).

import { $, el, pct } from "./util.js";
import { ApiError, currentModel, listModels } from "./api.js";
import { PAD, createPad } from "./pad.js";

const DIGITS = 10;
const TARGET = 3; // samples of each digit the page asks for (the API takes fewer, and says so)
const SHEET_SIDE = 2400; // longest side a sheet photo is sent at: the boxes stay sharp, the body stays small
const SHEET_QUALITY = 0.92;

const samples = []; // {label, image: data URL}, in the order they were added
let digit = 0; // the digit asked for now
let busy = false; // one teaching request at a time
let personal = new Set(); // names of personal models (never used as a base: teaching starts from shipped models)

const counts = () => {
  const c = new Array(DIGITS).fill(0);
  for (const s of samples) c[s.label] += 1;
  return c;
};

function blobToDataURL(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

const pad = createPad($("teach-pad"), $("teach-pad-hint"), $("brush"), {
  start: () => {},
  change: () => render(),
  empty: () => render(),
});

// ------------------------------------------------------------------ drawing samples

function buildCounts() {
  const box = $("teach-counts");
  for (let d = 0; d < DIGITS; d++) {
    const b = el("button", { type: "button" }, [el("b", { text: String(d) }), el("span", { class: "n" })]);
    b.dataset.digit = d;
    b.addEventListener("click", () => { digit = d; render(); });
    box.append(b);
  }
}

// The next digit still short of TARGET, looking forward from `from` (wrapping); `from` itself when all are done.
function nextShort(from) {
  const c = counts();
  for (let i = 0; i < DIGITS; i++) {
    const d = (from + i) % DIGITS;
    if (c[d] < TARGET) return d;
  }
  return from;
}

// Synchronous on purpose: the sample is taken and the pad cleared in the click itself, so a stroke begun right
// after the click can never be wiped by a late clear (and a busy machine cannot lose a click).
function add() {
  if (pad.isEmpty()) return;
  const label = digit;
  const canvas = $("teach-pad");
  const small = el("canvas", { width: PAD, height: PAD }); // PAD x PAD whatever the screen's pixel ratio
  small.getContext("2d").drawImage(canvas, 0, 0, PAD, PAD);
  samples.push({ label, image: small.toDataURL("image/png") });
  pad.clear();
  if (counts()[label] >= TARGET) digit = nextShort(label);
  render();
}

function removeLast() {
  const last = samples.pop();
  if (last) digit = last.label;
  render();
}

function render() {
  const c = counts();
  $("teach-digit").textContent = String(digit);
  $("teach-progress").textContent = `(${c[digit]} of ${TARGET}${c[digit] >= TARGET ? ", more are welcome" : ""})`;
  for (const b of $("teach-counts").children) {
    const d = Number(b.dataset.digit);
    b.querySelector(".n").textContent = `${c[d]}/${TARGET}`;
    b.classList.toggle("done", c[d] >= TARGET);
    b.setAttribute("aria-pressed", String(d === digit));
    b.setAttribute("aria-label", `digit ${d}: ${c[d]} of ${TARGET} samples${d === digit ? ", drawing it now" : ""}`);
  }
  const missing = c.reduce((n, k) => n + Math.max(0, TARGET - k), 0);
  $("teach-total").textContent = `${samples.length} drawing${samples.length === 1 ? "" : "s"}` +
    (missing ? `; ${missing} more to go (${TARGET} of each digit).` : ": ready to teach.");
  $("teach-add").disabled = pad.isEmpty();
  $("teach-add").textContent = `Add this ${digit}`;
  $("teach-undo").disabled = !samples.length;
  $("teach-go").disabled = busy || missing > 0;
  $("teach-sheet").disabled = busy;
  $("teach-sheet-label").classList.toggle("disabled", busy);
}

// ------------------------------------------------------------------ teaching

function showError(message) {
  $("teach-error").hidden = !message;
  $("teach-error").textContent = message || "";
}

// The model to teach from: the one chosen in the switch, unless it is personal (then the server's default).
function base() {
  const name = currentModel();
  return name && !personal.has(name) ? name : null;
}

async function post(body) {
  let response;
  try {
    response = await fetch("api/teach", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(`Cannot reach the server (${err.message}).`);
  }
  const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (response.status === 409) throw new ApiError(`${answer.error} Tick “Replace my model of that name”, or choose another name.`);
  if (!response.ok) throw new ApiError(answer.error || `HTTP ${response.status}`);
  return answer;
}

async function teach(what, extra) {
  const name = $("teach-name").value.trim();
  if (!$("teach-name").checkValidity() || !name) {
    showError("Give the model a name: letters, digits, - and _ (starting with a letter or digit).");
    $("teach-name").focus();
    return;
  }
  if (busy) return;
  busy = true;
  showError(null);
  render();
  const from = base();
  $("teach-status").textContent = `Teaching “${name}” from ${from ? `“${from}”` : "the default model"} on ${what}…`;
  try {
    const report = await post({ name, base: from, force: $("teach-force").checked, ...extra });
    showReport(report);
    $("teach-status").textContent = `“${report.name}” is ready (${report.seconds.toFixed(1)} s) and chosen in the model switch.`;
    await offer(report.name);
  } catch (err) {
    $("teach-status").textContent = "";
    showError(err.message);
  } finally {
    busy = false;
    render();
  }
}

function teachDrawings() {
  teach(`${samples.length} drawings`, { samples: samples.map((s) => ({ image: s.image, label: s.label })) });
}

// A sheet photo, made smaller first when it is big (a phone's 12 MP JPEG would be most of the body limit).
async function sheetDataURL(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, SHEET_SIDE / Math.max(bitmap.width, bitmap.height));
    if (scale === 1) return blobToDataURL(file);
    const canvas = el("canvas", { width: Math.round(bitmap.width * scale), height: Math.round(bitmap.height * scale) });
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL("image/jpeg", SHEET_QUALITY);
  } catch (_) {
    return blobToDataURL(file); // a type the browser cannot decode: the server may still read it
  }
}

async function teachSheet() {
  const file = $("teach-sheet").files[0];
  $("teach-sheet").value = "";
  if (!file || busy) return;
  teach(`the sheet ${file.name}`, { sheet: await sheetDataURL(file) });
}

// ------------------------------------------------------------------ the answer

function cells(row, values, format, classes = []) {
  const tr = $(row);
  while (tr.children.length > 1) tr.lastChild.remove();
  values.forEach((v, i) => tr.append(el("td", { text: format(v), class: classes[i] || "" })));
}

function showReport(r) {
  const head = $("teach-head");
  while (head.children.length > 1) head.lastChild.remove();
  for (let d = 0; d < DIGITS; d++) head.append(el("th", { scope: "col", text: String(d) }));
  head.append(el("th", { scope: "col", text: "all" }));
  const shown = (v) => (v === null || v === undefined ? "–" : pct(v));
  const total = r.counts.reduce((a, b) => a + b, 0);
  cells("teach-row-count", [...r.counts, total], String);
  cells("teach-row-before", [...r.before, r.before_overall], shown);
  const moved = r.after.map((a, d) => (a === null || r.before[d] === null ? "" : a > r.before[d] ? "up" : a < r.before[d] ? "down" : ""));
  cells("teach-row-after", [...r.after, r.after_overall], shown, moved);
  $("teach-result-title").textContent = `“${r.name}”, taught from “${r.base}” on ${total} drawings`;
  const change = (r.mnist_after - r.mnist_before) * 100;
  $("teach-summary").textContent = (r.after_overall === null
    ? `Your drawings: ${pct(r.before_overall)} read right before; too few of each digit to measure after.`
    : `Your drawings: ${pct(r.before_overall)} read right before, ${pct(r.after_overall)} after.`) +
    ` MNIST test digits (everyone else's handwriting): ${(r.mnist_before * 100).toFixed(2)}% → ${(r.mnist_after * 100).toFixed(2)}% (${change >= 0 ? "+" : ""}${change.toFixed(2)} points).`;
  const notes = $("teach-notes");
  notes.textContent = "";
  const note = (text) => notes.append(el("li", { text }));
  if (r.few.length) note(`Fewer than 2 samples of ${r.few.join(", ")}: the model learned little about ${r.few.length > 1 ? "them" : "it"}.`);
  for (const x of r.refused) note(`Not learned: ${x.name} (labelled ${x.label}): the model is sure it is not a digit.`);
  for (const e of r.errors) note(`Skipped: ${e}`);
  $("teach-result").hidden = false;
}

// Put the new model in the switch (once) and choose it; app.js loads it on the select's "change".
async function offer(name) {
  personal.add(name);
  const select = $("model");
  if (![...select.options].some((o) => o.value === name)) select.append(new Option(`${name} (yours)`, name));
  select.value = name;
  select.dispatchEvent(new Event("change"));
}

// ------------------------------------------------------------------ start

async function start() {
  buildCounts();
  $("teach-add").addEventListener("click", add);
  $("teach-clear").addEventListener("click", () => pad.clear());
  $("teach-undo").addEventListener("click", removeLast);
  $("teach-go").addEventListener("click", teachDrawings);
  $("teach-sheet").addEventListener("change", teachSheet);
  window.addEventListener("resize", () => pad.setup());
  render();
  try {
    personal = new Set((await listModels()).filter((m) => m.personal).map((m) => m.name));
  } catch (_) {
    // app.js shows the server's error; teaching from a personal model then starts from the default instead
  }
}

start();
