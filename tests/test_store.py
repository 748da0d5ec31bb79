"""The model store: names and paths to model files, checked metadata, atomic writes, no silent overwrite."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from digitrec import ModelError, ModelNotFound, Recognizer
from digitrec.store import (
    SHIPPED_DIR,
    atomic_write,
    check_writable,
    default_model,
    model_files,
    read_metadata,
    resolve,
    shipped_models,
    stem_of,
)


def copy_seed(into) -> None:
    for path in model_files(SHIPPED_DIR / "seed").values():
        shutil.copy(path, into / path.name)


def test_every_file_of_a_model_names_the_same_stem(tmp_path):
    for name in ("m", "m.json", "m.onnx", "m.safetensors", "m.layers.onnx"):
        assert stem_of(tmp_path / name) == tmp_path / "m"
    assert stem_of("models/v1.2") == stem_of("models/v1.2.json") == Path("models/v1.2")  # a dot in the name is kept


def test_shipped_names_resolve_and_the_default_is_one_of_them():
    assert {"seed", "strong"} <= set(shipped_models())
    assert "line" in shipped_models("line") and "line" not in shipped_models()
    assert default_model() in shipped_models()
    assert resolve("seed") == SHIPPED_DIR / "seed"
    assert read_metadata(resolve(None))["name"] == default_model()


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFound, match="no such model"):
        Recognizer.load(tmp_path / "nothing")
    with pytest.raises(ModelNotFound, match="shipped models: .*seed"):
        resolve(str(tmp_path / "nothing"))


def test_model_with_mismatched_files_is_refused(tmp_path):
    copy_seed(tmp_path)
    onnx = tmp_path / "seed.onnx"
    onnx.write_bytes(onnx.read_bytes()[:-1] + b"\x00")
    with pytest.raises(ModelError, match="SHA-256 does not match"):
        Recognizer.load(tmp_path / "seed")
    meta = json.loads((tmp_path / "seed.json").read_text())
    meta["format_version"] = 99
    (tmp_path / "seed.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="format version 99"):
        Recognizer.load(tmp_path / "seed.json")


def test_metadata_that_is_not_ours_is_refused_by_name(tmp_path):
    copy_seed(tmp_path)
    (tmp_path / "seed.json").write_text("{not json")
    with pytest.raises(ModelError, match=r"seed\.json: not valid JSON"):
        read_metadata(tmp_path / "seed")
    (tmp_path / "seed.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ModelError, match="not a digitrec model file"):
        read_metadata(tmp_path / "seed")
    (tmp_path / "seed.json").unlink()
    with pytest.raises(ModelNotFound, match="metadata not found"):
        read_metadata(tmp_path / "seed")


def test_existing_model_needs_force(tmp_path):
    check_writable(tmp_path / "seed", force=False)  # nothing there yet
    copy_seed(tmp_path)
    with pytest.raises(ModelError, match="already exists; pass --force"):
        check_writable(tmp_path / "seed", force=False)
    check_writable(tmp_path / "seed", force=True)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "deep" / "model.json"
    atomic_write(target, lambda tmp: tmp.write_text("old"))
    assert target.read_text() == "old"

    def half_then_crash(tmp):
        tmp.write_text("half of the ne")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_crash)
    assert target.read_text() == "old"
    assert os.listdir(target.parent) == ["model.json"]  # no temporary file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # readable by others, as a normal file
