"""Real (short) training runs on MNIST subsets, saving, and ONNX export agreement."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from digitrec import ModelError, Recognizer  # noqa: E402
from digitrec.io.mnist import load_mnist  # noqa: E402
from digitrec.train import loop as training  # noqa: E402
from digitrec.train.modelio import load_torch  # noqa: E402


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


@pytest.fixture(scope="module")
def short_run(mnist):
    # 6,000 images, 2 epochs of batch 50 (240 steps): a few seconds on 2 cores, far above chance if the loop is right.
    config = training.TrainConfig(epochs=2, limit=6000, batch_size=50, seed=1)
    return training.fit(config, data=mnist, progress=False)


@pytest.mark.slow
def test_short_training_run_reaches_95_percent(short_run):
    assert short_run.final.val_accuracy >= 0.95, short_run.final
    assert len(short_run.history) == 2 and short_run.history[1].loss < short_run.history[0].loss


@pytest.mark.slow
def test_same_seed_gives_the_same_run(mnist):
    config = training.TrainConfig(epochs=1, limit=1000, seed=3)
    a = training.fit(config, data=mnist, progress=False)
    b = training.fit(config, data=mnist, progress=False)
    assert a.final.loss == b.final.loss
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(pa, pb)


@pytest.mark.slow
def test_save_load_round_trip_gives_identical_predictions(short_run, mnist, tmp_path):
    test = mnist[1]
    stem = training.save(short_run, tmp_path / "m", check_images=test.images)
    meta = json.loads((tmp_path / "m.json").read_text())
    # ONNX Runtime and torch agree on all 10,000 test digits.
    assert meta["metrics"]["onnx_max_probability_difference"] < 1e-4
    rec = Recognizer.load(stem)
    with torch.no_grad():
        x = torch.from_numpy(test.images[:, None].astype(np.float32) / 255)
        torch_pred = short_run.model(x).argmax(1).numpy()
    assert (rec.predict_arrays(test.images).argmax(1) == torch_pred).all()
    net, meta2 = load_torch(stem)
    for (k, v), (k2, v2) in zip(net.state_dict().items(), short_run.model.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    assert not list(tmp_path.glob(".*.tmp")), "temporary files left behind"


@pytest.mark.slow
def test_existing_model_is_not_overwritten_without_force(short_run, tmp_path):
    training.save(short_run, tmp_path / "m")
    before = (tmp_path / "m.onnx").read_bytes()
    with pytest.raises(ModelError, match="already exists; pass --force"):
        training.save(short_run, tmp_path / "m")
    assert (tmp_path / "m.onnx").read_bytes() == before
    training.save(short_run, tmp_path / "m", force=True)


@pytest.mark.slow
def test_strong_network_with_augmentation_and_nondigit_class_trains(mnist):
    # A narrow (width 8) network on 4,000 images: 3 short epochs, well above chance (measured ~0.62 after 2).
    config = training.TrainConfig(arch="strong", epochs=3, limit=4000, batch_size=100, lr=2e-3, augment=True,
                                  nondigit=0.1, holdout=0, hparams={"width": 8, "classes": 11})  # fmt: skip
    result = training.fit(config, data=mnist, progress=False)
    assert result.final.val_accuracy > 0.5, result.history
    assert result.model(torch.zeros(1, 1, 28, 28)).shape == (1, 11)


def test_augmenter_keeps_shape_and_range():
    from digitrec.train.augment import Augmenter

    x = torch.rand(64, 1, 28, 28)
    y = Augmenter(seed=0)(x)
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    assert not torch.equal(x, y)
