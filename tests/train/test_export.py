"""Export: a torch network to a standalone ONNX file that says how to feed it, checked against torch."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from digitrec.cli import cli

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

from digitrec.errors import ExportError  # noqa: E402
from digitrec.train import models  # noqa: E402
from digitrec.train.export import check_export, labels_for, standalone_metadata, write_onnx  # noqa: E402


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return models.build("seed").eval()


def test_labels_are_the_digits_then_not_a_digit():
    assert labels_for(10) == list(range(10))
    assert labels_for(11) == [*range(10), "not a digit"]


def test_standalone_metadata_is_the_model_card_without_training_history():
    meta = {
        "name": "m", "architecture": "strong", "temperature": 1.3, "rejection": {"normal": 0.5},
        "metrics": {"test_accuracy": 0.99, "history": [{"epoch": 1}]}, "snapshots": [[0.1]], "hparams": {"width": 32},
    }  # fmt: skip
    assert standalone_metadata(meta) == {
        "name": "m", "architecture": "strong", "temperature": 1.3, "rejection": {"normal": 0.5},
        "metrics": {"test_accuracy": 0.99},
    }  # fmt: skip
    assert standalone_metadata({"name": "bare"}) == {"name": "bare", "metrics": {}}


def test_export_agrees_with_torch_and_carries_its_metadata(net, test_split, tmp_path):
    path = write_onnx(net, tmp_path / "net.onnx", metadata={"name": "net", "temperature": 1.25})
    assert check_export(net, path, test_split.images[:200]) < 1e-4
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    props = session.get_modelmeta().custom_metadata_map
    assert props["digitrec.name"] == "net" and json.loads(props["digitrec.temperature"]) == 1.25
    batch = test_split.images[:7, None].astype(np.float32) / 255
    assert session.run(["logits"], {"image": batch})[0].shape == (7, 10)  # the batch axis is dynamic


def test_check_export_catches_a_file_from_another_network(net, test_split, tmp_path):
    path = write_onnx(net, tmp_path / "net.onnx")
    torch.manual_seed(1)
    other = models.build("seed").eval()
    with pytest.raises(ExportError, match=r"net\.onnx: ONNX Runtime differs from torch"):
        check_export(other, path, test_split.images[:200])


def test_layers_graph_outputs_every_layer_but_the_last(net, tmp_path):
    path = write_onnx(net, tmp_path / "net.layers.onnx", layers=True)
    outputs = [o.name for o in ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_outputs()]
    names = [name for name, _ in net.named_children()]
    assert outputs == ["logits", *(f"layer.{n}" for n in names[:-1])]


@pytest.mark.slow
def test_export_writes_a_standalone_onnx_with_its_contract(tmp_path):
    target = tmp_path / "seed.onnx"
    result = run("export", "--format", "onnx", "--model", "seed", "--out", target)
    assert result.exit_code == 0, result.output
    assert "max |p_onnx - p_torch|" in result.output
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    props = session.get_modelmeta().custom_metadata_map
    assert json.loads(props["digitrec.input"])["shape"] == [1, 28, 28]
    assert json.loads(props["digitrec.labels"]) == list(range(10))
    assert "digitrec.temperature" in props
    assert run("export", "--model", "seed", "--out", target).exit_code == 2  # no silent overwrite


@pytest.mark.slow
def test_export_of_an_11_class_model_lists_11_labels_and_its_formulas(tmp_path):
    result = run("export", "--model", "strong", "--out", tmp_path / "exp" / "m1")
    assert result.exit_code == 0, result.output
    target = tmp_path / "exp" / "m1.onnx"
    assert target.exists() and not (tmp_path / "exp" / "m1").exists()
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    props = session.get_modelmeta().custom_metadata_map
    assert json.loads(props["digitrec.labels"]) == [*range(10), "not a digit"]
    assert session.get_outputs()[0].shape[1] == 11
    assert "logsumexp" in props["digitrec.rejection_formula"] and "temperature" in props["digitrec.temperature_formula"]
    from digitrec import __version__

    assert props["digitrec.version"] == __version__
