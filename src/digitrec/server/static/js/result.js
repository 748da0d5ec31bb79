// The verdict and the probability bars: they always agree with each other and with the reason.

import { $, drawGray, el, pct } from "./util.js";
import { state } from "./state.js";

export function buildBars(outputs) {
  const ol = $("bars");
  ol.textContent = "";
  for (let d = 0; d < outputs; d++) {
    const label = d < 10 ? String(d) : "✗";
    const li = el("li", {}, [el("span", { text: label }), el("span", { class: "track", "aria-hidden": "true" }, [el("span", { class: "fill" })]), el("span", { class: "pct", text: "–" })]);
    if (d >= 10) { li.classList.add("nondigit"); li.title = "the model's 'not a digit' output"; }
    ol.append(li);
  }
}

export function resetResult(message = "Draw something to start.") {
  state.result = null;
  $("digit").textContent = "–";
  $("confidence").textContent = message;
  $("verdict").classList.remove("not-digit");
  $("bars").classList.remove("refused");
  for (const li of $("bars").children) {
    li.classList.remove("top");
    li.querySelector(".fill").style.width = "0";
    li.querySelector(".pct").textContent = "–";
  }
  drawGray($("seen"), new Float32Array(784));
  $("caveat").hidden = true;
}

// The best digit of a refused answer: `best_digit` when the API gives it, else the top probability.
function bestOf(r) {
  if (r.best_digit !== undefined && r.best_digit !== null) return [r.best_digit, r.best_probability];
  const p = r.probabilities || [];
  if (!p.length) return [null, null];
  const d = p.indexOf(Math.max(...p));
  return [d, p[d]];
}

const SEVERAL = "Several characters side by side: draw one digit, or upload a picture of the line to read it whole";

// "blank: only ruled lines, nothing written" -> "Blank: only ruled lines, nothing written."
function blankReason(reason) {
  return /no ink/.test(reason) ? "No ink found: the picture is blank." : `Blank: ${reason.replace(/^blank:\s*/, "")}.`;
}

export function showResult(r) {
  state.result = r;
  const refused = r.digit === null || r.digit === undefined;
  const verdict = $("verdict");
  verdict.classList.toggle("not-digit", refused);
  $("bars").classList.toggle("refused", refused);
  if (refused) {
    // The reader may answer "several characters" (a `verdict` field, or said in the reason).
    const several = r.verdict === "several" || /several/i.test(r.reason || "");
    const blank = !r.error && /^blank/.test(r.reason || "");
    $("digit").textContent = r.error ? "Error" : blank ? "Blank" : several ? "Several characters" : "Not a digit";
    const [best, p] = bestOf(r);
    // NOTE: the API's reason for several characters names a CLI command; a page user gets the page's own advice.
    const because = r.error || (blank ? blankReason(r.reason) : several ? SEVERAL : r.reason || "");
    $("confidence").textContent = best !== null && p !== null && !r.error && !blank
      ? `${because}. The bars show what the network would have said (${best}: ${pct(p)}), refused.`
      : because;
  } else {
    $("digit").textContent = String(r.digit);
    $("confidence").textContent = r.confidence === null || r.confidence === undefined ? "" : `${pct(r.confidence)} sure`;
  }
  const bars = $("bars").children;
  const probs = r.probabilities || [];
  for (let d = 0; d < bars.length; d++) {
    const p = d < 10 ? probs[d] || 0 : r.nondigit || 0;
    bars[d].classList.toggle("top", refused ? d === 10 : d === r.digit);
    bars[d].querySelector(".fill").style.width = `${p * 100}%`;
    bars[d].querySelector(".pct").textContent = d < 10 && !probs.length ? "–" : pct(p);
  }
  // A model with no "not a digit" output names a digit for anything: say so beside a confident answer.
  $("caveat").hidden = !(state.model && state.model.outputs < 11 && !refused);
  if (r.preprocessed) {
    state.input = Float32Array.from(r.preprocessed.flat());
    drawGray($("seen"), state.input);
  }
}

// An upload the line reader read as several characters: the verdict says what the page read, not what to run.
export function showLine(reading) {
  const r = state.result;
  if (!r || (r.digit !== null && r.digit !== undefined) || r.error) return;
  const [best, p] = bestOf(r);
  const bars = best === null || p === null ? "" : ` (${best}: ${pct(p)}, refused)`;
  $("digit").textContent = "Several characters";
  $("confidence").textContent = `This page read them as a line: “${reading.digits}” (boxes on the photo above). ` +
    `The bars are the one-digit network's answer for the whole picture as one digit${bars}.`;
}
