"""The original notebook as one command:  python digitrec.py [IMAGE]

Trains and saves the notebook's network when no model exists yet, evaluates it
on the MNIST test set, reads every image in images/, then the IMAGE named on the
command line (a bare file name is looked up in images/). A few lines over the
digitrec API; `digitrec --help` has the full tool.
"""

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))  # runs from a clone without installing
if __name__ != "__main__":
    # NOTE: `import digitrec` run from the repository root finds this script before the package:
    # hand the import over to the real package, so `python -c "import digitrec"` works here too.
    del sys.modules[__name__]
    sys.modules[__name__] = importlib.import_module("digitrec")
elif __spec__ is not None:
    # `python -m digitrec` from the repository root also finds this script: run the package's CLI instead.
    import runpy

    runpy.run_module("digitrec", run_name="__main__", alter_sys=True)
    sys.exit(0)

from digitrec import Recognizer, load_mnist  # noqa: E402
from digitrec.evaluate import score  # noqa: E402
from digitrec.preprocess import iter_image_paths  # noqa: E402

MODEL = Path("models/digitrec-seed")


def main(argv: list[str]) -> int:
    train, test = load_mnist()
    if not MODEL.with_suffix(".json").exists():
        from digitrec import train as training

        result = training.fit(training.TrainConfig(), data=(train, test),
                              on_epoch=lambda e: print(training.format_epoch(e, 5)))  # fmt: skip
        training.save(result, MODEL, check_images=test.images)
    recognizer = Recognizer.load(MODEL)
    ev = score(recognizer.predict_arrays(test.images), test.labels)
    print(f"Test loss: {ev.loss:.4f}\nTest accuracy: {ev.accuracy:.4f}")
    named = [a if Path(a).exists() else str(Path("images") / a) for a in argv]
    failed = 0
    for pred in recognizer.predict_paths(iter_image_paths(["images", *named])):
        print(f"error: {pred.error}" if pred.error else f"{pred.path}: {pred.digit} ({pred.confidence:.1%})")
        failed += pred.error is not None
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
