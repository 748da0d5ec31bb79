"""The public Python API: exported names, and the notebook's one command."""

import subprocess
import sys

import pytest
from conftest import ROOT

import digitrec

PUBLIC = [
    "BadImage",
    "CellReading",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "DigitrecError",
    "ExportError",
    "ImageTooLarge",
    "MissingExtra",
    "ModelError",
    "ModelNotFound",
    "OutputExists",
    "Prediction",
    "Reading",
    "Recognizer",
    "Split",
    "TrainingError",
    "__version__",
    "load_mnist",
    "preprocess",
    "read_cells",
    "read_digits",
]


def test_all_lists_exactly_the_public_names():
    # a literal list, as httpx's test_exported_members: adding or dropping a public name is a deliberate edit here
    assert digitrec.__all__ == PUBLIC  # sorted, so the list reads like an index
    for name in PUBLIC:
        assert hasattr(digitrec, name), name


def test_readme_python_example_runs():
    rec = digitrec.Recognizer.load()
    pred = rec.predict(ROOT / "images" / "mnist-7.png")
    assert pred.digit == 7 and 0.5 < pred.confidence <= 1.0
    train, test = digitrec.load_mnist()
    assert train.images.dtype.name == "uint8" and len(test) == 10_000


@pytest.mark.slow
def test_notebook_script_evaluates_and_reads_images(tmp_path):
    # Runs the root script with a model already in place (training itself is covered in test_train.py).
    import shutil

    from digitrec.store import SHIPPED_DIR, model_files

    (tmp_path / "models").mkdir()
    for path in model_files(SHIPPED_DIR / "seed").values():
        shutil.copy(path, tmp_path / "models" / path.name.replace("seed", "digitrec-seed"))
    shutil.copytree(ROOT / "images", tmp_path / "images")
    out = subprocess.run(
        [sys.executable, str(ROOT / "digitrec.py"), "mnist-7.png"], cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "Test accuracy: 0.98" in out.stdout
    assert out.stdout.count("mnist-7.png: 7") == 2  # once from images/, once as the named image
