// Uploading a photo: show it with the box of ink the network read, or say clearly why it could not be read.

import { $, el, pct } from "./util.js";

let photoUrl = null;

export function hidePhoto() {
  $("photo-figure").hidden = true;
  $("photo-boxes").textContent = "";
  $("photo").removeAttribute("src");
  if (photoUrl) URL.revokeObjectURL(photoUrl);
  photoUrl = null;
}

// Show the file; resolves to whether the browser can display it (TIFF usually not).
export async function showPhoto(file) {
  hidePhoto();
  photoUrl = URL.createObjectURL(file);
  const img = $("photo");
  img.src = photoUrl;
  $("photo-figure").hidden = false;
  $("photo-caption").textContent = `${file.name}: reading…`;
  try {
    await img.decode();
    img.hidden = false;
    return true;
  } catch (_) {
    img.hidden = true; // no broken-image icon
    return false;
  }
}

export function captionFailed(file, message) {
  $("photo").hidden = true;
  $("photo-boxes").textContent = "";
  $("photo-caption").textContent = `${file.name}: could not be read. ${message}`;
}

export function drawBoxes(file, shown, result, reading) {
  const layer = $("photo-boxes");
  layer.textContent = "";
  const several = reading && reading.boxes && reading.boxes.length > 1;
  const boxes = several ? reading.boxes : result.box ? [{ box: result.box, digit: result.digit, confidence: result.confidence }] : [];
  const img = $("photo");
  const w = img.naturalWidth, h = img.naturalHeight;
  if (shown && w && h) {
    for (const b of boxes) {
      const [l, t, r, btm] = b.box;
      const div = el("div", { class: "photo-box" });
      Object.assign(div.style, { left: `${(l / w) * 100}%`, top: `${(t / h) * 100}%`, width: `${((r - l) / w) * 100}%`, height: `${((btm - t) / h) * 100}%` });
      const label = el("span", { text: b.digit === null || b.digit === undefined ? "?" : `${b.digit} · ${pct(b.confidence)}` });
      if (t / h < 0.15) label.classList.add("inside"); // no room above the box: keep the label inside the photo
      div.append(label);
      layer.append(div);
    }
  }
  let caption;
  if (!boxes.length) caption = `${file.name}: no ink found, so there is no box.`;
  else if (several) caption = `${file.name}: ${reading.boxes.length} digits found, read as “${reading.digits}”. The views show the most central one.`;
  else caption = `${file.name}: ${shown ? "the red box is the ink the network read" : "your browser cannot show this file type, but the network read it"}; its 28×28 version is below.`;
  $("photo-caption").textContent = caption;
}
