"""digitrec teach: personal models from a few samples, on real MNIST-built writers, the real shipped model."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from digitrec.cli import cli
from digitrec.errors import ConfigError, ModelError
from digitrec.io.mnist import load_split
from digitrec.read.digits import Recognizer
from digitrec.synth.hands import write
from digitrec.teach.learn import collect, from_images, jitter, teach
from digitrec.teach.sheet import PER_DIGIT, fill, photograph, read_sheet, render_sheet, write_sheet

MNIST_BOUND = 0.003  # share a personal model may lose on MNIST test here (european on strong: 0.23 points; target 0.1 unmet, docs/accuracy.md)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    path = tmp_path_factory.mktemp("home")
    old = os.environ.get("DIGITREC_HOME")
    os.environ["DIGITREC_HOME"] = str(path)
    yield path
    if old is None:
        os.environ.pop("DIGITREC_HOME")
    else:
        os.environ["DIGITREC_HOME"] = old


@pytest.fixture(scope="module")
def test_split():
    return load_split("test")


def _writer(split, style: str, first: int, per_digit: int, seed: int):
    idx = np.concatenate([np.flatnonzero(split.labels == d)[first : first + per_digit] for d in range(10)])
    pictures = write(style, split.images[idx], split.labels[idx], seed=seed)
    return from_images(pictures, list(split.labels[idx]), [f"{style}-{i}" for i in range(len(idx))])


@pytest.fixture(scope="module")
def taught(home, test_split):
    samples = _writer(test_split, "european", 0, 5, seed=1)
    return samples, teach(samples, "euro")


def test_teaching_raises_held_out_accuracy_and_keeps_mnist(taught, test_split):
    _, report = taught
    held = _writer(test_split, "european", 5, 20, seed=2)
    base = Recognizer.load()
    mine = Recognizer.load("euro")
    before = float((base.classify(held.images[:, None], "off").digits == held.labels).mean())
    after = float((mine.classify(held.images[:, None], "off").digits == held.labels).mean())
    assert after >= before + 0.05, (before, after)
    assert report.after_overall > report.before_overall
    assert report.mnist_before - report.mnist_after <= MNIST_BOUND


def test_jitter_varies_slant_and_stroke_width():
    bar = np.zeros((1, 28, 28), np.float32)
    bar[0, 6:22, 13:15] = 1.0  # an upright stroke, 2 pixels wide
    copies = jitter(bar, 60, np.random.default_rng(0))
    slants, ink = [], copies.sum((1, 2))
    for c in copies:
        ys, xs = np.nonzero(c > 0.5)
        slants.append(np.polyfit(ys, xs, 1)[0])  # x drift per row: the stroke's slant
    assert max(np.abs(slants)) > 0.3  # sheared, not only turned by 10 degrees (tan 0.18)
    assert ink.max() / ink.min() > 2.5  # strokes thickened and thinned (turning and scaling alone: under 1.5)


def test_replay_bank_is_mnist_training_digits_never_test(taught):
    from safetensors import safe_open

    from digitrec.teach import replay

    base = Recognizer.load()
    bank = replay.bank(base)  # cached by the teach above: this reads the file teaching used
    with safe_open(str(replay.cache_path(base)), "np") as f:
        assert f.metadata()["replay_source"] == "mnist-train"
    train = load_split("train")
    digits = bank.replay_index >= 0
    assert digits.sum() == 10 * replay.REPLAY_PER_DIGIT
    assert bank.replay_index[digits].max() < replay.REPLAY_FROM  # train[55000:] stays free for tuning
    assert (train.labels[bank.replay_index[digits]] == bank.replay_labels[digits]).all()
    some = bank.replay_index[digits][::97]
    again = replay.features(base, train.images[some].astype(np.float32) / 255.0)
    assert np.allclose(again, bank.replay_features[digits][::97], atol=1e-4)


def test_personal_model_is_listed_read_and_still_refuses(taught):
    result = CliRunner().invoke(cli, ["models", "--json"])
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["euro"]["personal"]["base"] == "strong"
    assert sum(rows["euro"]["personal"]["samples_per_digit"]) == sum(taught[1].counts)
    mine = Recognizer.load("euro")
    noise = np.random.default_rng(0).random((1, 1, 28, 28)).astype(np.float32)
    assert mine.classify(noise).reasons[0] is not None  # still says "not a digit"


def test_personal_graph_is_the_base_speed_graph(taught):
    base, mine = Recognizer.load(), Recognizer.load("euro")
    assert base.path.stat().st_size == mine.path.stat().st_size  # same graph, only the dense tensors differ
    x = taught[0].images[:4, None]
    assert not np.allclose(base.logits(x), mine.logits(x))


def test_names_and_force(home, taught):
    samples = taught[0]
    with pytest.raises(ModelError, match="--force"):
        teach(samples, "euro")
    with pytest.raises(ModelError, match="shipped"):
        teach(samples, "strong", force=True)
    with pytest.raises(ConfigError, match="model name"):
        teach(samples, "../evil")
    few = from_images(list(samples.images[:6] * 255), list(samples.labels[:6]), ["a"] * 6)
    report = teach(few, "few", force=True)
    assert report.after_overall is None or report.few
    result = CliRunner().invoke(cli, ["teach", "--remove", "few"])
    assert result.exit_code == 0 and "few" not in CliRunner().invoke(cli, ["models"]).output


def test_cli_teaches_from_folders_and_prints_cross_validated_figures(home, tmp_path, test_split):
    samples = _writer(test_split, "slanted", 40, 3, seed=3)
    for i, (image, label) in enumerate(zip(samples.images, samples.labels)):
        (tmp_path / str(label)).mkdir(exist_ok=True)
        Image.fromarray((image * 255).astype(np.uint8)).save(tmp_path / str(label) / f"{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    result = CliRunner().invoke(cli, ["teach", str(tmp_path), "--name", "slant", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["counts"] == [3] * 10 and report["after_overall"] is not None
    out = CliRunner().invoke(cli, ["predict", "--model", "slant", str(tmp_path / "3")])
    assert out.exit_code == 0


def test_sheet_round_trip(home, tmp_path, test_split):
    write_sheet(tmp_path / "sheet.pdf")
    assert (tmp_path / "sheet.pdf").read_bytes()[:4] == b"%PDF"
    rng = np.random.default_rng(0)
    digits = {
        (d, c): test_split.images[np.flatnonzero(test_split.labels == d)[100 + c]] for d in range(10) for c in range(5)
    }
    photo = photograph(fill(render_sheet(), digits), 20.0, rng)
    Image.fromarray(photo).save(tmp_path / "photo.jpg", quality=85)
    boxes = read_sheet(tmp_path / "photo.jpg")
    assert len(boxes) == 10 * PER_DIGIT
    assert {(b.label, b.column) for b in boxes if not b.empty} == set(digits)
    samples = collect([str(tmp_path / "photo.jpg")])
    assert samples.counts() == [5] * 10
    result = CliRunner().invoke(
        cli, ["teach", str(tmp_path / "photo.jpg"), "--name", "sheet", "--show", str(tmp_path / "show.png")]
    )
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "show.png").size[0] > 100


def test_light_path_teaches_without_torch(home, taught, tmp_path):
    code = (
        "import sys; from digitrec.teach.learn import collect, teach; from digitrec.synth.hands import write\n"
        "from digitrec.teach.learn import from_images; import numpy as np\n"
        "from digitrec.io.mnist import load_split; t = load_split('test'); i = np.arange(30)\n"
        "s = from_images(write('marker', t.images[i], t.labels[i]), list(t.labels[i]), ['x'] * 30)\n"
        "teach(s, 'light', force=True); assert 'torch' not in sys.modules and 'onnx' not in sys.modules; print('ok')"
    )
    env = dict(os.environ, DIGITREC_HOME=str(home))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_api_teach_writes_a_model_and_lists_it(home, taught):
    pytest.importorskip("fastapi")
    import base64
    import io

    from fastapi.testclient import TestClient

    from digitrec.server import create_app

    def b64(image):
        buf = io.BytesIO()
        Image.fromarray((image * 255).astype(np.uint8)).save(buf, format="PNG")
        return base64.b64encode(buf.getvalue()).decode()

    samples = taught[0]
    body = {
        "name": "web",
        "samples": [{"image": b64(i), "label": int(y)} for i, y in zip(samples.images, samples.labels)],
    }
    client = TestClient(create_app(Recognizer.load()))
    r = client.post("/api/teach", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["name"] == "web"

    def sent(counts, refused):  # samples per digit, learned or listed as refused: a PNG round trip may move one
        return [c + sum(x["label"] == d for x in refused) for d, c in enumerate(counts)]

    assert sent(got["counts"], got["refused"]) == sent(taught[1].counts, [x for x in taught[1].refused])
    assert client.post("/api/teach", json=body).status_code == 409
    listed = {m["name"]: m for m in client.get("/api/models").json()["models"]}
    assert listed["web"]["personal"] is True
    files = {"file": ("x.png", io.BytesIO(base64.b64decode(b64(samples.images[0]))), "image/png")}
    assert client.post("/api/predict?model=web", files=files).status_code == 200
    sheet = client.get("/api/teach/sheet")  # the page's "print the teaching sheet" link
    assert sheet.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(sheet.content)).size == Image.fromarray(render_sheet()).size
