"""notebooks/digit_recognition.ipynb: stored without outputs, covers the lesson, and runs top to bottom in a real kernel."""

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "digit_recognition.ipynb"

# The lesson's sections, each a phrase that must appear in the notebook's text.
SECTIONS = [
    "The data and its shapes", "One-hot labels", "The model", "A convolution by hand",
    "ReLU and 2×2 max pooling by hand", "Dropout", "Flatten, dense layers and softmax", "Training",
    "Evaluation", "confusion matrix", "misclassified", "Save and load", "Reading real images", "Try your own digit",
]  # fmt: skip


def cells():
    return json.loads(NOTEBOOK.read_text())["cells"]


def test_notebook_is_stored_without_outputs():
    code = [c for c in cells() if c["cell_type"] == "code"]
    assert code
    for c in code:
        source = "".join(c["source"])[:60]
        assert c["outputs"] == [], f"cell {source!r} has stored outputs; clear them before committing"
        assert c["execution_count"] is None, f"cell {source!r} has an execution count; clear outputs before committing"


def test_notebook_covers_every_section_of_the_lesson():
    text = "\n".join("".join(c["source"]) for c in cells())
    missing = [s for s in SECTIONS if s not in text]
    assert not missing, f"sections missing from the notebook: {missing}"
    assert "5 * 5 * 1 * 32 + 32" in text and "import digitrec" in text


@pytest.mark.slow
def test_notebook_runs_top_to_bottom_in_a_jupyter_kernel():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    # The kernel runs this interpreter ("python3" is mapped to sys.executable) and imports this checkout's digitrec.
    pythonpath = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute(env={**os.environ, "PYTHONPATH": pythonpath})  # a failing cell raises CellExecutionError
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert not [o for o in outputs if o.output_type == "error"]
    assert "[0, 0, 0, 0, 0, 1, 0, 0, 0, 0]" in text
    assert "(60000, 28, 28) -> (60000, 1, 28, 28) float32" in text
    assert "reloaded model gives the same 10,000 answers" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 8, "expected the plots to be drawn"


def test_notebook_names_documented_functions_and_says_how_read_reads():
    text = (ROOT / "notebooks" / "digit_recognition.ipynb").read_text()
    assert "train.load_torch" not in text and "training.load_torch" not in text
    assert "digit by digit" not in text
    assert "name=None)" in (ROOT / "docs" / "python-api.md").read_text()  # predict(..., name=) is documented
