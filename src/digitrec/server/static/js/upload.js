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

// The label over a box: its character and confidence, or the character alone where that would run into the
// next box's label (a label is never cut: the full text is its tooltip). Separators carry their own character.
function boxLabel(div, b, roomPx, leftPx, photoPx) {
  const char = b.char || (b.digit === null || b.digit === undefined ? "?" : String(b.digit));
  const full = b.confidence === null || b.confidence === undefined ? char : `${char} · ${pct(b.confidence)}`;
  const label = el("span", { text: full, title: full });
  div.append(label);
  if (label.offsetWidth > roomPx - LABEL_GAP) label.textContent = char;
  if (leftPx + label.offsetWidth > photoPx) label.classList.add("right"); // grows leftwards, inside the photo
  return label;
}

const LABEL_GAP = 2; // px kept between a label and the next one

// Photo pixels from a box's left edge to the next box to its right on the same rows, or to the photo's edge.
function room(b, boxes, w) {
  const [l, t, , btm] = b.box;
  let right = w;
  for (const o of boxes) if (o !== b && o.box[0] > l && o.box[1] < btm && o.box[3] > t) right = Math.min(right, o.box[0]);
  return right - l;
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
      layer.append(div);
      const scale = img.clientWidth / w;
      const label = boxLabel(div, b, room(b, boxes, w) * scale, l * scale, img.clientWidth);
      if (t / h < 0.15) label.classList.add("inside"); // no room above the box: keep the label inside the photo
    }
  }
  let caption;
  if (!boxes.length) caption = `${file.name}: no ink found, so there is no box.`;
  else if (several) caption = lineCaption(file.name, reading);
  else caption = `${file.name}: ${shown ? "the red box is the ink the network read" : "your browser cannot show this file type, but the network read it"}; its 28×28 version is below.`;
  $("photo-caption").textContent = caption;
}

function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

// What the line reader found, digits and separators counted apart, and what the views below really show.
export function lineCaption(name, reading) {
  const digits = reading.boxes.filter((b) => b.digit !== null && b.digit !== undefined).length;
  const separators = reading.boxes.length - digits;
  const counted = separators ? `${plural(digits, "digit")} and ${plural(separators, "separator")}` : plural(digits, "digit");
  const lines = (reading.lines || []).filter((text) => text).length;
  const read = reading.digits ? ` read as ${lines > 1 ? `${lines} lines` : "a line"}: “${reading.digits}”` : " found";
  return `${name}: ${counted}${read}. The 28×28 input, the bars and the network views below show the whole ` +
    "picture squeezed into one square, not any one of its characters.";
}
