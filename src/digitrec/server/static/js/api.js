// The JSON API client: every request names the chosen model (?model=), errors become ApiError.
//
// Sequencing: choosing a model aborts every request made for the one before, and an answer that still arrives
// for an earlier choice is thrown away as StaleAnswer, so the last choice always wins (a slow /api/model or
// prediction for the old model can never overwrite the new one's header, bars or layers).

let modelName = null;
let controller = new AbortController(); // aborted when another model is chosen

export class ApiError extends Error {}
// An answer for a model that is no longer chosen: callers drop it silently (it is no error for the user).
export class StaleAnswer extends Error {}

export function setModel(name) {
  controller.abort();
  controller = new AbortController();
  modelName = name;
}
export function currentModel() { return modelName; }
export function isStale(err) { return err instanceof StaleAnswer; }

function url(path, params = {}) {
  const q = new URLSearchParams();
  if (modelName) q.set("model", modelName);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function answer(response) {
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new ApiError(body.error || `HTTP ${response.status}`);
  return body;
}

async function call(path, init, params) {
  const signal = controller.signal;
  let body;
  try {
    body = await answer(await fetch(url(path, params), { ...init, signal }));
  } catch (err) {
    if (signal.aborted) throw new StaleAnswer(`answer for a model no longer chosen: ${path}`);
    if (err instanceof ApiError) throw err;
    throw new ApiError(`Cannot reach the server (${err.message}).`);
  }
  if (signal.aborted) throw new StaleAnswer(`answer for a model no longer chosen: ${path}`);
  return body;
}

export function getJSON(path, params) { return call(path, undefined, params); }

// POST an image file (Blob or File) as multipart `file`; resolves to the JSON answer.
export function postImage(path, blob, name, params) {
  const form = new FormData();
  form.append("file", blob, name);
  return call(path, { method: "POST", body: form }, params);
}

// Listing models never names one.
export async function listModels() {
  const response = await fetch("api/models").catch((err) => { throw new ApiError(`Cannot reach the server (${err.message}).`); });
  return (await answer(response)).models;
}
