// The drawing pad: strokes with mouse, pen or finger, undo, clear, example digits for keyboard users.

export const PAD = 280; // logical pad size (CSS pixels); the backing store is scaled by devicePixelRatio

// Example digits in PAD units, so keyboard-only users can explore the network too.
const EXAMPLES = [
  [[[75, 62], [205, 62], [120, 232]]],
  [[...Array(33).keys()].map((i) => [140 + 58 * Math.sin(i / 32 * 2 * Math.PI), 140 - 88 * Math.cos(i / 32 * 2 * Math.PI)])],
  [[[118, 82], [150, 48], [150, 235]]],
  [[[175, 235], [175, 48], [80, 170], [215, 170]]],
  [[[82, 95], [108, 58], [170, 55], [196, 100], [170, 150], [82, 230], [212, 230]]],
];

// hooks: start() before a new stroke, change(final) after ink changed, empty() when the pad became blank.
export function createPad(canvas, hint, brush, hooks) {
  const ctx = canvas.getContext("2d");
  const pad = { strokes: [], drawing: null, exampleIndex: 0 };

  function drawStroke(s) {
    Object.assign(ctx, { strokeStyle: "#000", fillStyle: "#000", lineCap: "round", lineJoin: "round", lineWidth: s.size });
    const p = s.points;
    ctx.beginPath();
    if (p.length === 1) {
      ctx.arc(p[0][0], p[0][1], s.size / 2, 0, Math.PI * 2);
      ctx.fill();
      return;
    }
    ctx.moveTo(p[0][0], p[0][1]);
    for (let i = 1; i < p.length; i++) ctx.lineTo(p[i][0], p[i][1]);
    ctx.stroke();
  }

  function redraw() {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, PAD, PAD);
    for (const s of pad.strokes) drawStroke(s);
    if (pad.drawing) drawStroke(pad.drawing);
    hint.classList.toggle("gone", !pad.isEmpty());
  }

  function setup() {
    const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
    canvas.width = canvas.height = PAD * dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    redraw();
  }

  function point(e) {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * PAD, ((e.clientY - r.top) / r.height) * PAD];
  }

  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== undefined && e.button > 0) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    hooks.start();
    pad.drawing = { size: Number(brush.value), points: [point(e)] };
    redraw();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!pad.drawing) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) pad.drawing.points.push(point(ev));
    redraw();
    hooks.change(false);
  });
  function endStroke() {
    if (!pad.drawing) return;
    pad.strokes.push(pad.drawing);
    pad.drawing = null;
    redraw();
    hooks.change(true);
  }
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);

  pad.isEmpty = () => pad.strokes.length === 0 && !pad.drawing;
  pad.isDrawing = () => !!pad.drawing;
  pad.undo = () => {
    pad.strokes.pop();
    redraw();
    pad.strokes.length ? hooks.change(true) : hooks.empty();
  };
  pad.clear = () => {
    pad.strokes = [];
    pad.drawing = null;
    redraw();
    hooks.empty();
  };
  pad.example = () => {
    hooks.start();
    pad.strokes = EXAMPLES[pad.exampleIndex++ % EXAMPLES.length].map((points) => ({ size: 20, points }));
    redraw();
    hooks.change(true);
  };
  // The pad as a PNG at PAD x PAD, whatever the screen's pixel ratio.
  pad.blob = () => {
    const small = document.createElement("canvas");
    small.width = small.height = PAD;
    small.getContext("2d").drawImage(canvas, 0, 0, PAD, PAD);
    return new Promise((resolve) => small.toBlob(resolve, "image/png"));
  };
  pad.setup = setup;
  pad.redraw = redraw;
  canvas.addEventListener("keydown", (e) => {
    if (e.key === "Escape" || e.key === "Delete") pad.clear();
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pad.example(); }
  });
  setup();
  return pad;
}
