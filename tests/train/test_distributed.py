"""torchrun / DistributedDataParallel training and crash-safe resume, for real on this machine."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from conftest import crash_after_first_epoch  # noqa: E402

from digitrec.errors import DigitrecError  # noqa: E402
from digitrec.io.mnist import load_mnist  # noqa: E402
from digitrec.train import distributed  # noqa: E402
from digitrec.train import loop as training  # noqa: E402

TORCHRUN = Path(sys.executable).parent / "torchrun"


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def test_shards_cover_every_global_batch_exactly_once():
    batch = torch.randperm(203)
    for size in (1, 2, 3, 5):
        parts = [distributed.shard(batch, distributed.World(r, size)) for r in range(size)]
        joined = torch.cat(parts)
        assert torch.equal(joined, batch)
        assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_misconfigured_world_is_a_clear_error(monkeypatch):
    with pytest.raises(DigitrecError, match="world size 4 is larger than the data"):
        distributed.check_sizes(distributed.World(0, 4), images=3, batch_size=200)
    with pytest.raises(DigitrecError, match="larger than the global --batch-size"):
        distributed.check_sizes(distributed.World(0, 4), images=1000, batch_size=2)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "5")
    with pytest.raises(DigitrecError, match="bad torchrun environment"):
        distributed.world_from_env()


@pytest.mark.slow
def test_resume_after_a_crash_gives_the_same_model_as_an_uninterrupted_run(mnist, tmp_path):
    config = training.TrainConfig(epochs=2, limit=1500, batch_size=100, seed=5, schedule="onecycle", lr=3e-3)
    whole = training.fit(config, data=mnist, progress=False)

    stem = tmp_path / "run"
    crash_after_first_epoch(training.fit, config, mnist, stem)
    assert json.loads((tmp_path / "run.ckpt.json").read_text())["epoch"] == 1
    resumed = training.fit(config, data=mnist, progress=False, checkpoint=stem, resume=True)
    assert [h.epoch for h in resumed.history] == [1, 2]
    for a, b in zip(whole.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)


@pytest.mark.slow
def test_resume_refuses_a_checkpoint_with_other_settings(mnist, tmp_path):
    config = training.TrainConfig(epochs=1, limit=300, batch_size=100)
    training.fit(config, data=mnist, progress=False, checkpoint=tmp_path / "r")
    other = training.TrainConfig(epochs=1, limit=300, batch_size=50)
    with pytest.raises(DigitrecError, match="batch_size=100"):
        training.fit(other, data=mnist, progress=False, checkpoint=tmp_path / "r", resume=True)


@pytest.mark.slow
def test_two_process_gloo_run_trains_saves_once_and_matches_single_process(tmp_path, mnist):
    if not TORCHRUN.exists():
        pytest.skip("torchrun not installed next to this Python")
    args = ["train", "--limit", "4000", "--epochs", "2", "--batch-size", "100", "--seed", "2", "--quiet"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([TORCHRUN, "--standalone", "--nproc-per-node", "2", "-m", "digitrec", *args, "--out", "ddp/m"],
                         cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("Test accuracy:") == 1 and out.stdout.count("Epoch 2/2") == 1  # rank 0 only
    assert sorted(p.name for p in (tmp_path / "ddp").iterdir()) == [
        "m.json",
        "m.layers.onnx",
        "m.onnx",
        "m.safetensors",
    ]
    ddp_acc = json.loads((tmp_path / "ddp" / "m.json").read_text())["metrics"]["test_accuracy"]
    single = training.fit(
        training.TrainConfig(epochs=2, limit=4000, batch_size=100, seed=2), data=mnist, progress=False
    )
    assert ddp_acc > 0.9 and abs(ddp_acc - single.final.val_accuracy) < 0.02, (ddp_acc, single.final.val_accuracy)
