"""The original notebook as one command:  python digitrec.py [IMAGE]

Trains and saves the notebook's network when no model exists yet (without torch,
the light install of `make demo`, it uses the shipped seed model instead), evaluates it
on the MNIST test set, reads every image in images/, then the IMAGE named on the
command line (a bare file name is looked up in images/). A few lines over the
digitrec API; `digitrec --help` has the full tool.
"""

import importlib
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOT_INSTALLED = (
    "digitrec.py: the digitrec package is not installed, and there is no src/ beside this script: "
    "pip install digitrec (or pip install -e . in a clone), or run the script from a clone of the repository"
)
if (HERE / "src" / "digitrec").is_dir():
    sys.path.insert(0, str(HERE / "src"))  # runs from a clone without installing
# NOTE: this script is itself named digitrec: look for the real package everywhere except beside it.
_elsewhere = [p for p in sys.path if Path(p or ".").resolve() != HERE]
_finders = [f for f in sys.meta_path if hasattr(f, "find_spec")]
if not any(f.find_spec("digitrec", _elsewhere) for f in _finders):
    if __name__ != "__main__":
        raise ImportError(NOT_INSTALLED)
    print(f"error: {NOT_INSTALLED}", file=sys.stderr)
    sys.exit(2)
if __name__ != "__main__":
    # NOTE: `import digitrec` run from the repository root finds this script before the package:
    # hand the import over to the real package, so `python -c "import digitrec"` works here too.
    del sys.modules[__name__]
    sys.path[:] = _elsewhere
    sys.modules[__name__] = importlib.import_module("digitrec")
elif __spec__ is not None:
    # `python -m digitrec` from the repository root also finds this script: run the package's CLI instead.
    import runpy

    sys.path[:] = _elsewhere
    runpy.run_module("digitrec", run_name="__main__", alter_sys=True)
    sys.exit(0)
else:
    sys.path[:] = _elsewhere  # so `import digitrec` below is the package, not this script

from digitrec import DigitrecError, Recognizer, load_mnist  # noqa: E402
from digitrec.errors import exit_code  # noqa: E402
from digitrec.io.decode import iter_image_paths  # noqa: E402
from digitrec.read.evaluate import score  # noqa: E402

MODEL = Path("models/digitrec-seed")


NO_TORCH = (
    "torch is not installed, so this reads with the shipped seed model instead of training {model}; "
    'to train: pip install "digitrec[train]"  (or: pip install -e ".[train]" in a clone)'
)


def trained_or_seed(train, test) -> Recognizer:
    """The notebook's network: trained and saved on the first run, loaded later; the shipped seed without torch."""
    if MODEL.with_suffix(".json").exists():
        return Recognizer.load(MODEL)
    if importlib.util.find_spec("torch") is None:  # the light install (make demo): read, evaluate, never train
        print(NO_TORCH.format(model=MODEL), file=sys.stderr)
        return Recognizer.load("seed")
    from digitrec.train import loop as training

    training.run(training.TrainConfig(), MODEL, data=(train, test))
    return Recognizer.load(MODEL)


def main(argv: list[str]) -> int:
    train, test = load_mnist()
    recognizer = trained_or_seed(train, test)
    ev = score(recognizer.predict_arrays(test.images), test.labels)
    print(f"Test loss: {ev.loss:.4f}\nTest accuracy: {ev.accuracy:.4f}")
    named = [a if Path(a).exists() else str(Path("images") / a) for a in argv]
    failed = 0
    for pred in recognizer.predict_paths(iter_image_paths(["images", *named])):
        print(f"error: {pred.error}" if pred.error else f"{pred.path}: {_answer(pred)}")
        failed += pred.error is not None
    return 1 if failed else 0


def _answer(pred) -> str:
    """'7 (99.9%)', or why there is no digit ('several characters (4): use digitrec read')."""
    return f"{pred.digit} ({pred.confidence:.1%})" if pred.digit is not None else f"- ({pred.reason})"


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except DigitrecError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(exit_code(e))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
