"""The Recognizer on real MNIST and the real shipped models (ONNX Runtime only)."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import IMAGES, sample_digit
from PIL import Image

from digitrec import BadImage, Recognizer
from digitrec.read.evaluate import score
from digitrec.store import SHIPPED_DIR, shipped_models


def test_shipped_seed_model_scores_at_least_98_9_percent_on_mnist_test(seed_recognizer, test_split):
    ev = score(seed_recognizer.predict_arrays(test_split.images), test_split.labels)
    assert ev.accuracy >= 0.989, ev.accuracy
    assert ev.confusion.sum() == 10_000


def test_shipped_models_carry_their_recipe_and_metrics():
    assert "seed" in shipped_models()
    meta = json.loads((SHIPPED_DIR / "seed.json").read_text())
    assert meta["architecture"]["name"] == "seed" and meta["architecture"]["parameters"] == 113_898
    assert meta["training"]["epochs"] == 5 and meta["training"]["batch_size"] == 200 and meta["training"]["lr"] == 0.001
    assert meta["training"]["command"].startswith("digitrec train")
    assert set(meta["data"]["mnist_sha256"]) == {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}  # fmt: skip
    assert meta["metrics"]["test_accuracy"] >= 0.989
    assert meta["input"]["shape"] == [1, 28, 28] and "digitrec_version" in meta and "created" in meta


@pytest.mark.parametrize(
    "name",
    sorted(
        p.name
        for p in IMAGES.iterdir()
        if "-" in p.stem and p.stem.rsplit("-", 1)[1].isdigit() and not p.name.startswith("multi-")
    ),
)
def test_sample_images_are_read_correctly(name):
    pred = Recognizer.load().predict(IMAGES / name)
    assert pred.digit == sample_digit(name), pred


def test_predict_accepts_paths_arrays_and_pillow_images(seed_recognizer, test_split, mnist_png):
    from_path = seed_recognizer.predict(mnist_png)
    from_array = seed_recognizer.predict(test_split.images[0])
    from_pil = seed_recognizer.predict(Image.open(mnist_png))
    assert from_path.digit == from_array.digit == from_pil.digit == 7
    assert from_path.path == str(mnist_png)
    assert abs(sum(from_path.probabilities) - 1) < 1e-5 and len(from_path.probabilities) == 10


def test_blank_image_is_not_given_a_digit(seed_recognizer):
    pred = seed_recognizer.predict(Image.new("L", (64, 64), 255))
    assert pred.digit is None and pred.reason.startswith("blank")


@pytest.mark.slow
def test_predict_paths_streams_in_order_and_reports_bad_files(seed_recognizer, tmp_path, test_split):
    paths = []
    for i in range(300):  # more than one batch: exercises the worker pool
        p = tmp_path / f"{i:04d}.png"
        Image.fromarray(test_split.images[i]).save(p)
        paths.append(str(p))
    (tmp_path / "0100.png").write_bytes(b"not a png at all")
    results = list(seed_recognizer.predict_paths(paths, workers=2, batch=64))
    assert [r.path for r in results] == paths
    assert results[100].error == f"{paths[100]}: not an image (unrecognised format)"
    good = [i for i in range(300) if i != 100]
    accuracy = np.mean([results[i].digit == test_split.labels[i] for i in good])
    assert accuracy > 0.97


def test_bad_array_shape_is_a_clear_error(seed_recognizer):
    with pytest.raises(BadImage, match=r"expected \(N, 1, 28, 28\)"):
        seed_recognizer.logits(np.zeros((2, 28, 28), np.float32))


def test_activations_cover_every_layer(seed_recognizer, test_split):
    x = test_split.images[:2, None].astype(np.float32) / 255
    acts = seed_recognizer.activations(x)
    assert acts["conv1"].shape == (2, 32, 24, 24) and acts["pool2"].shape == (2, 32, 5, 5)
    assert acts["dense1"].shape == (2, 128) and acts["probabilities"].shape == (2, 10)
    np.testing.assert_allclose(acts["probabilities"], seed_recognizer.probabilities(x), atol=1e-5)


def test_inference_does_not_import_torch():
    import subprocess

    code = "import sys, digitrec; digitrec.Recognizer.load('seed').predict('images/mnist-7.png'); print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[2], check=True
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".gif", ".tiff", ".webp"])
def test_every_supported_format_is_read(tmp_path, test_split, suffix):
    path = tmp_path / f"seven{suffix}"
    Image.fromarray(255 - test_split.images[0]).resize((112, 112)).convert("RGB").save(path)
    assert Recognizer.load().predict(path).digit == 7


@pytest.mark.slow
def test_default_model_accepts_at_least_99_5_percent_of_mnist_test(test_split):
    rec = Recognizer.load()
    accepted = rec.classify(test_split.images[:, None].astype(np.float32) / 255).accepted.mean()
    assert accepted >= 0.995, accepted


@pytest.mark.parametrize("text,mode", [("A", "strict"), ("K", "normal"), ("W", "normal"), ("#", "normal")])
def test_letters_and_signs_are_not_read_as_digits(text, mode):
    # NOTE: a bold serif "A" is refused only in strict mode (P(not a digit) 0.82, under normal's threshold)
    import matplotlib
    from PIL import ImageDraw, ImageFont

    font = ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSerif-Bold.ttf"), 120)
    img = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(img).text((100, 100), text, fill=0, font=font, anchor="mm")
    pred = Recognizer.load(reject=mode).predict(img)
    assert pred.digit is None and pred.reason.startswith("not a digit"), pred


def test_missing_torch_names_the_extra(monkeypatch):
    from digitrec.errors import MissingExtra, require_torch

    monkeypatch.setitem(sys.modules, "torch", None)  # what `import torch` meets when torch is not installed
    with pytest.raises(MissingExtra, match=r'pip install "digitrec\[train\]"'):
        require_torch("digitrec train")


def test_predict_paths_walks_folders_and_takes_one_path(seed_recognizer, two_images):
    walked = list(seed_recognizer.predict_paths([two_images]))
    assert [Path(p.path).name for p in walked] == ["mnist-7.png", "multi-2026.png"]
    assert all(p.error is None for p in walked)
    one = list(seed_recognizer.predict_paths(str(IMAGES / "mnist-7.png")))
    assert len(one) == 1 and one[0].digit == 7
    assert [p.digit for p in seed_recognizer.predict_paths(IMAGES / "mnist-7.png")] == [7]  # a Path too


@pytest.mark.parametrize("bad", [None, 5, [[0, 1], [1, 0]], 2.5, {"image": 1}], ids=repr)
def test_predict_of_something_that_is_no_image_raises_bad_image(seed_recognizer, bad):
    with pytest.raises(BadImage, match="is not an image"):
        seed_recognizer.predict(bad)


def test_predict_reads_a_memoryview_of_png_bytes(seed_recognizer):
    assert seed_recognizer.predict(memoryview((IMAGES / "mnist-7.png").read_bytes())).digit == 7


@pytest.mark.parametrize("value", [np.nan, np.inf, -1.0])
def test_nan_infinite_or_negative_arrays_are_bad_input_not_blank(seed_recognizer, value):
    a = np.zeros((28, 28), np.float32)
    a[10:18, 12:16] = value
    with pytest.raises(BadImage, match="NaN or infinite|negative"):
        seed_recognizer.predict(a)


def test_confidence_is_none_whenever_the_digit_is(seed_recognizer, tmp_path):
    blank = seed_recognizer.predict(np.zeros((28, 28), np.float32))
    assert blank.digit is None and blank.confidence is None and blank.as_dict()["confidence"] is None
    refused = seed_recognizer.predict(IMAGES / "multi-2026.png")  # several characters: refused
    assert refused.digit is None and refused.confidence is None and refused.best_digit is not None
    assert refused.as_dict()["confidence"] is None
    bad = tmp_path / "x.png"
    bad.write_text("no picture")
    (err,) = seed_recognizer.predict_paths([bad])
    assert err.error and err.confidence is None and err.as_dict()["confidence"] is None


def test_predict_arrays_takes_both_mnist_shapes_and_either_polarity(seed_recognizer):
    from digitrec.io.mnist import load_split

    test = load_split("test")
    x, y = test.images[:64], test.labels[:64]
    flat = seed_recognizer.predict_arrays(x)
    assert (flat.argmax(1) == y).mean() > 0.95
    assert np.allclose(seed_recognizer.predict_arrays(x[:, None]), flat, atol=1e-6)
    dark_on_light = 255 - x
    assert np.allclose(seed_recognizer.predict_arrays(dark_on_light), flat, atol=1e-5)
    with pytest.raises(BadImage, match=r"images of shape \(64, 2, 28, 28\): expected \(N, 28, 28\)"):
        seed_recognizer.predict_arrays(np.zeros((64, 2, 28, 28), np.uint8))


def test_predict_items_answers_prepared_images_errors_and_blanks_in_order(seed_recognizer):
    from digitrec.image.preprocess import Prepared, prepare

    seven = prepare(IMAGES / "mnist-7.png")
    items = [
        ("a.png", seven, None),
        ("b.png", None, "b.png: not an image"),
        ("c.png", Prepared(seven.image, True), None),
    ]
    a, b, c = seed_recognizer.predict_items(items)
    assert a.as_dict() == seed_recognizer.predict(IMAGES / "mnist-7.png", name="a.png").as_dict()
    assert b.error == "b.png: not an image" and b.digit is None
    assert c.reason == "blank: no ink found" and c.probabilities is None
