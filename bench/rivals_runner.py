"""Read a folder of digit pictures with one tool and write its answers as JSON; run by bench/rivals.py.

    python bench/rivals_runner.py TOOL FOLDER OUT.json

TOOL is "digitrec" (run with digitrec's own interpreter, PYTHONPATH=src),
"rapidocr" or "digit-recognizer" (run with bench/.venv-rivals/bin/python).
FOLDER holds one sub-folder per set of PNG files; the answers are read one
picture at a time from its file, as a user calling each tool's API would.
OUT.json: {"tool", "version", "load_s", "peak_rss_mb", "sets": {set: {"files",
"answers" (digit or null), "texts" (what the tool said), "seconds"}}}.

Only the standard library is imported at the top: each tool brings its own.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from importlib import metadata
from pathlib import Path


def digitrec_reader():
    """digitrec's default model in its default (normal) rejection mode: None where it refuses."""
    from digitrec import Recognizer

    rec = Recognizer.load()

    def read(path: str) -> tuple[int | None, str]:
        p = rec.predict(path)
        return p.digit, str(p.digit) if p.digit is not None else f"refused: {p.reason or p.error}"

    return read, f"digitrec {metadata.version('digitrec')} ({rec.name})"


def rapidocr_reader():
    """PP-OCR's text recogniser on the whole picture (no text detection, no angle classifier).

    A digit is answered only when the recognised text, stripped of whitespace,
    is exactly one digit character; anything else (empty, a letter, "17") is no answer.
    """
    from rapidocr import RapidOCR

    engine = RapidOCR(params={"Global.log_level": "error"})

    def read(path: str) -> tuple[int | None, str]:
        out = engine(path, use_det=False, use_cls=False, use_rec=True)
        text = "".join(getattr(out, "txts", None) or ()).strip()
        return (int(text) if len(text) == 1 and text in "0123456789" else None), text

    return read, f"rapidocr {metadata.version('rapidocr')} (onnxruntime {metadata.version('onnxruntime')})"


def torchvision_without_ops() -> None:
    """Let torchvision import when its C++ ops cannot load, as with the package index's (CUDA) torchvision on CPU torch.

    torchvision 0.28 then fails at import, registering fake kernels for two ops
    its extension never defined. Declaring those two schemas (never called:
    digit-recognizer-py uses only the PIL transforms Resize, ToTensor and
    Normalize) is all it takes; where the extension loads, nothing is changed.
    """
    import importlib.util

    import torch

    origin = importlib.util.find_spec("torchvision").origin
    try:
        torch.ops.load_library(str(next(Path(origin).parent.glob("_C*.so"))))
    except (OSError, StopIteration):
        for op in ("nms", "qnms"):
            torch.library.define(f"torchvision::{op}", "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        print("  torchvision's C++ ops do not load here; running without them", file=sys.stderr)


def digit_recognizer_reader():
    """digit-recognizer-py's bundled CNN on the CPU; it always answers (no refusal)."""
    torchvision_without_ops()
    import torch
    from digit_recognizer import DigitRecognizer

    model = DigitRecognizer(device="cpu")

    def read(path: str) -> tuple[int | None, str]:
        d = int(model.predict(path))
        return d, str(d)

    return read, f"digit-recognizer-py {metadata.version('digit-recognizer-py')} (torch {torch.__version__})"


def peak_rss_mb() -> float:
    """This process's own peak RSS. NOTE: not getrusage's ru_maxrss, which a child started by fork + exec
    inherits from its parent (here the bench, holding every set in memory)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


READERS = {"digitrec": digitrec_reader, "rapidocr": rapidocr_reader, "digit-recognizer": digit_recognizer_reader}


def main() -> None:
    tool, folder, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    start = time.perf_counter()
    read, version = READERS[tool]()
    load_s = time.perf_counter() - start
    sets = {}
    for set_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = sorted(set_dir.glob("*.png"))
        read(str(files[0]))  # NOTE: first call warms lazy loading; not counted in the rate
        answers, texts = [], []
        start = time.perf_counter()
        for f in files:
            digit, text = read(str(f))
            answers.append(digit)
            texts.append(text)
        seconds = time.perf_counter() - start
        sets[set_dir.name] = {"files": [f.name for f in files], "answers": answers, "texts": texts, "seconds": seconds}
        print(f"  {tool}: {set_dir.name} {len(files)} pictures in {seconds:.1f} s", file=sys.stderr, flush=True)
    peak = peak_rss_mb()
    result = {"tool": tool, "version": version, "load_s": load_s, "peak_rss_mb": peak, "sets": sets}
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
