"""digitrec beside the tools users would pick instead, on the same single-digit pictures, in one table.

    PYTHONPATH=src .venv/bin/python bench/rivals.py                  # 300 pictures per set
    PYTHONPATH=src .venv/bin/python bench/rivals.py --per-set 200
    PYTHONPATH=src .venv/bin/python bench/rivals.py --quick          # 60 per set, a few minutes

The tools:

    digitrec          the shipped default model, normal rejection mode
    rapidocr          RapidOCR 3.10.0: PP-OCR's text recogniser (models inside its
                      wheel) on the whole picture; a digit is answered when the text,
                      stripped of whitespace, is exactly one digit character
    digit-recognizer  digit-recognizer-py 0.1.0: a small torch CNN, always answers

The pictures are `digit_sets()` from bench/generalize.py (MNIST test digits as
other writers and capture chains give them, optdigits, photos, printed digits),
N per set drawn with a fixed seed and written as PNG files. Every tool reads
the same files one at a time through its own API, in its own process (rivals
in bench/.venv-rivals, digitrec in this interpreter), timed after loading.
Per set and tool: right (answered and correct), no answer (refused, or not one
digit), images/s; then each tool's peak RSS. Evaluation only.

The rivals are never digitrec dependencies: on first use this script makes
bench/.venv-rivals (python -m venv) and pip-installs them there, CPU torch
first so that pip does not bring a CUDA build (a few minutes, once).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from generalize import cpu_model, digit_sets  # noqa: E402

VENV = BENCH / ".venv-rivals"
RUNNER = BENCH / "rivals_runner.py"
REPORT = BENCH / "out" / "rivals.md"
SEED = 2026
QUICK_PER_SET = 60
# generalize's quick sets hold at least this many pictures each; more per set needs its full sets
QUICK_POOL = 300
TOOLS = ("digitrec", "rapidocr", "digit-recognizer")
TORCH = "torch==2.13.0"
# Each step is one pip call, in order. torch is pinned in the torchvision step too, so that pip picks the
# torchvision made for it instead of upgrading torch; digit-recognizer-py goes in with --no-deps for the same reason.
INSTALL_STEPS = (
    [TORCH],
    [TORCH, "torchvision", "pillow", "numpy"],
    ["--no-deps", "digit-recognizer-py==0.1.0"],
    ["rapidocr==3.10.0", "onnxruntime"],
)
READY = VENV / ".installed"


def rival_python() -> Path:
    """The rivals' interpreter, making bench/.venv-rivals and installing them there on first use."""
    python = VENV / "bin" / "python"
    if READY.exists():
        return python
    print(f"making {VENV} for the rival tools (once; a few minutes)", flush=True)
    if not python.exists():
        run([sys.executable, "-m", "venv", str(VENV)])
    for step in INSTALL_STEPS:
        run([str(python), "-m", "pip", "install", "--disable-pip-version-check", *step])
    cuda = subprocess.run(
        [str(python), "-c", "import torch; print(torch.__version__, torch.version.cuda)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"rival torch: {cuda} (the second field is None for a CPU build)", flush=True)
    READY.write_text(cuda + "\n")
    return python


def run(cmd: list[str]) -> None:
    print("$ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def write_sets(folder: Path, per_set: int, quick: bool) -> dict[str, list[int]]:
    """Draw `per_set` pictures per set (seeded) and write them as PNG files: folder/SET/NNNN.png. -> {set: labels}."""
    rng = np.random.default_rng(SEED)
    labels = {}
    for name, (images, truth) in digit_sets(quick).items():
        pick = np.sort(rng.choice(len(images), min(per_set, len(images)), replace=False))
        (folder / name).mkdir()
        for i, k in enumerate(pick):
            img = images[k]
            img = Image.fromarray(img) if isinstance(img, np.ndarray) else img
            img.save(folder / name / f"{i:04d}.png")
        labels[name] = [int(truth[k]) for k in pick]
    (folder / "labels.json").write_text(json.dumps(labels))
    return labels


def run_tool(tool: str, python: Path, folder: Path) -> dict:
    """Run one tool over the folder in its own process; -> the runner's JSON."""
    out = folder / f"{tool}.json"
    env = dict(os.environ)
    if tool == "digitrec":
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH.parent / "src"), env.get("PYTHONPATH")]))
    else:
        env.pop("PYTHONPATH", None)  # NOTE: the rivals' venv must not see digitrec's interpreter paths
    print(f"reading with {tool}", flush=True)
    subprocess.run([str(python), str(RUNNER), tool, str(folder), str(out)], env=env, check=True)
    return json.loads(out.read_text())


def score(result: dict, labels: dict[str, list[int]]) -> dict[str, tuple[float, float, float]]:
    """-> {set: (right share, no-answer share, images/s)}."""
    rows = {}
    for name, truth in labels.items():
        got = result["sets"][name]
        answers = got["answers"]
        right = np.mean([a is not None and a == t for a, t in zip(answers, truth)])
        none = np.mean([a is None for a in answers])
        rows[name] = (float(right), float(none), len(answers) / got["seconds"])
    return rows


def table(results: dict[str, dict], labels: dict[str, list[int]], per_set: int) -> str:
    """The markdown report: one row per set, right / no answer / images/s per tool."""
    scores = {tool: score(r, labels) for tool, r in results.items()}
    head = "| set | n | " + " | ".join(f"{t}: right | no answer | img/s" for t in results) + " |"
    lines = [head, "|---|---:|" + "---:|---:|---:|" * len(results)]
    for name, truth in labels.items():
        cells = []
        for tool in results:
            right, none, rate = scores[tool][name]
            best = right >= max(scores[t][name][0] for t in results)
            cells.append(f"{'**' if best else ''}{right:.1%}{'**' if best else ''} | {none:.1%} | {rate:,.0f}")
        lines.append(f"| {name} | {len(truth)} | " + " | ".join(cells) + " |")
    means = [[f"{np.mean([scores[t][n][0] for n in labels]):.1%}", "", ""] for t in results]
    lines.append("| mean of sets | | " + " | ".join(c for m in means for c in m) + " |")
    notes = [
        "",
        f"{per_set} pictures per set at most (seed {SEED}), read one at a time from PNG files; "
        "right = answered and correct; no answer = refused (digitrec), text not exactly one digit (rapidocr); "
        "img/s after loading, decoding included; best right share per set in bold.",
        "",
        *(f"- {r['version']}: load {r['load_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB" for r in results.values()),
        f"- {datetime.date.today().isoformat()}, {cpu_model()}, {os.cpu_count()} cores, each tool its own threads",
    ]
    return "\n".join(lines + notes) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_PER_SET} pictures per set (a few minutes)")
    ap.add_argument("--per-set", type=int, default=None, help="pictures per set (default 300)")
    ap.add_argument("--tools", nargs="*", default=list(TOOLS), choices=TOOLS, help="which tools (default: all)")
    args = ap.parse_args()
    per_set = args.per_set or (QUICK_PER_SET if args.quick else 300)
    rivals = [t for t in args.tools if t != "digitrec"]
    python = rival_python() if rivals else None
    print(f"{cpu_model()}; {per_set} pictures per set", flush=True)
    with tempfile.TemporaryDirectory(prefix="digitrec-rivals-") as tmp:
        folder = Path(tmp)
        labels = write_sets(folder, per_set, quick=per_set <= QUICK_POOL)
        results = {t: run_tool(t, Path(sys.executable) if t == "digitrec" else python, folder) for t in args.tools}
    report = table(results, labels, per_set)
    print("\n" + report)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(report)
    REPORT.with_suffix(".json").write_text(json.dumps({"labels": labels, "results": results}))
    print(f"saved {REPORT.relative_to(BENCH.parent)} and, with every answer per file, rivals.json")


if __name__ == "__main__":
    main()
