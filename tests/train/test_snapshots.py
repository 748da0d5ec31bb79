"""`digitrec train --snapshots`: conv1's weights at the start and after every epoch, kept across --resume."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import crash_after_first_epoch  # noqa: E402

from digitrec.io.mnist import load_mnist  # noqa: E402
from digitrec.train import loop as training  # noqa: E402
from digitrec.train.models import build  # noqa: E402

CONFIG = training.TrainConfig(epochs=2, limit=600, batch_size=100, seed=4, snapshots=True)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


@pytest.fixture(scope="module")
def run(mnist):
    return training.fit(CONFIG, data=mnist, progress=False)


@pytest.mark.slow
def test_snapshots_hold_the_initial_and_every_epochs_conv1_weights(run):
    snaps = run.snapshots
    assert set(snaps) == {"layer", "epochs", "shape", "weights"}
    assert snaps["layer"] == "conv1" and snaps["epochs"] == [0, 1, 2] and snaps["shape"] == [32, 1, 5, 5]
    assert [len(w) for w in snaps["weights"]] == [800, 800, 800]
    assert all(round(v, 5) == v for w in snaps["weights"] for v in w)
    # Epoch 0 is the seeded initialisation, the last epoch is the trained layer, and training moved the weights.
    torch.manual_seed(CONFIG.seed)
    init = build("seed").conv1.weight.detach().numpy().ravel()
    np.testing.assert_allclose(snaps["weights"][0], init, atol=5e-6)
    np.testing.assert_allclose(snaps["weights"][-1], run.model.conv1.weight.detach().numpy().ravel(), atol=5e-6)
    assert np.abs(np.subtract(snaps["weights"][1], snaps["weights"][0])).max() > 1e-3


@pytest.mark.slow
def test_snapshots_are_saved_in_the_model_metadata_only_when_asked(run, mnist, tmp_path):
    training.save(run, tmp_path / "with")
    meta = json.loads((tmp_path / "with.json").read_text())
    assert meta["snapshots"] == run.snapshots and meta["training"]["snapshots"] is True
    plain = training.fit(training.TrainConfig(epochs=1, limit=200, batch_size=100), data=mnist, progress=False)
    training.save(plain, tmp_path / "without")
    assert "snapshots" not in json.loads((tmp_path / "without.json").read_text())


@pytest.mark.slow
def test_snapshots_survive_a_crash_and_resume(run, mnist, tmp_path):
    stem = tmp_path / "run"
    crash_after_first_epoch(training.fit, CONFIG, mnist, stem)
    assert json.loads((tmp_path / "run.ckpt.snapshots.json").read_text())["epochs"] == [0, 1]
    resumed = training.fit(CONFIG, data=mnist, progress=False, checkpoint=stem, resume=True)
    assert resumed.snapshots == run.snapshots


@pytest.mark.slow
def test_resume_without_saved_snapshots_says_they_restart(mnist, tmp_path):
    stem = tmp_path / "run"
    first = training.TrainConfig(epochs=2, limit=300, batch_size=100, seed=4)
    crash_after_first_epoch(training.fit, first, mnist, stem)
    with pytest.warns(UserWarning, match="snapshots restart at epoch 1"):
        resumed = training.fit(
            training.TrainConfig(epochs=2, limit=300, batch_size=100, seed=4, snapshots=True),
            data=mnist, progress=False, checkpoint=stem, resume=True,
        )  # fmt: skip
    assert resumed.snapshots["epochs"] == [1, 2]


@pytest.mark.slow
def test_checkpoint_removal_takes_the_snapshots_too(run, tmp_path):
    from digitrec.train import checkpoint, snapshots

    stem = tmp_path / "m"
    snapshots.path(stem).write_text("{}")
    checkpoint.remove(stem)
    assert not snapshots.path(stem).exists()


def test_shipped_seed_carries_its_conv1_snapshots():
    from safetensors.numpy import load_file

    from digitrec.store import SHIPPED_DIR

    meta = json.loads((SHIPPED_DIR / "seed.json").read_text())
    snaps = meta["snapshots"]
    epochs = meta["training"]["epochs"]
    assert snaps["layer"] == "conv1" and snaps["shape"] == [32, 1, 5, 5]
    assert snaps["epochs"] == list(range(epochs + 1)) and [len(w) for w in snaps["weights"]] == [800] * (epochs + 1)
    weights = load_file(str(SHIPPED_DIR / "seed.safetensors"))["conv1.weight"].ravel()
    np.testing.assert_allclose(snaps["weights"][-1], weights, atol=5e-6)
