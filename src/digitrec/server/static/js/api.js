// The JSON API client: every request names the chosen model (?model=), errors become ApiError.

let modelName = null;

export class ApiError extends Error {}

export function setModel(name) { modelName = name; }
export function currentModel() { return modelName; }

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
  let response;
  try {
    response = await fetch(url(path, params), init);
  } catch (err) {
    throw new ApiError(`Cannot reach the server (${err.message}).`);
  }
  return answer(response);
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
