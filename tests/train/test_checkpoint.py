"""Training checkpoints: safetensors + JSON that continue a run exactly, refused when the recipe differs."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

torch = pytest.importorskip("torch")

from digitrec.cli import cli  # noqa: E402
from digitrec.errors import CheckpointError  # noqa: E402
from digitrec.train import checkpoint, models, snapshots  # noqa: E402
from digitrec.train.loop import EpochResult, TrainConfig  # noqa: E402


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def stepped(seed: int):
    """A seed network and its Adam optimizer after one real step on random input: moments are non-zero."""
    torch.manual_seed(seed)
    model = models.build("seed")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = model(torch.rand(4, 1, 28, 28)).logsumexp(1).mean()
    loss.backward()
    opt.step()
    return model, opt


def test_save_then_load_restores_weights_optimizer_and_random_state(tmp_path):
    config = TrainConfig(epochs=3, limit=1000)
    model, opt = stepped(0)
    gen = torch.Generator().manual_seed(5)
    history = [EpochResult(1, 0.5, 0.8, 0.4, 0.85, 1.0)]
    checkpoint.save(tmp_path / "m", 1, config, 1, model, opt, None, {"batches": gen}, history)
    expected_rand, expected_gen = torch.rand(3), torch.rand(3, generator=gen)

    fresh, fresh_opt = stepped(1)  # other weights, other moments
    gen2 = torch.Generator().manual_seed(99)
    epoch, rows = checkpoint.load(tmp_path / "m", config, 1, fresh, fresh_opt, None, {"batches": gen2})
    assert epoch == 1 and rows == [
        {"epoch": 1, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.4, "val_accuracy": 0.85, "seconds": 1.0}
    ]
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b)
    for (pa, sa), (pb, sb) in zip(opt.state_dict()["state"].items(), fresh_opt.state_dict()["state"].items()):
        assert pa == pb and all(torch.equal(sa[k], sb[k]) for k in ("exp_avg", "exp_avg_sq"))
    assert torch.equal(torch.rand(3), expected_rand) and torch.equal(torch.rand(3, generator=gen2), expected_gen)


def test_load_refuses_another_recipe_or_worker_count(tmp_path):
    model, opt = stepped(0)
    checkpoint.save(tmp_path / "m", 2, TrainConfig(lr=1e-3), 1, model, opt, None, {}, [])
    with pytest.raises(CheckpointError, match=r"m\.ckpt\.json: checkpoint was made with other settings \(lr=0\.001\)"):
        checkpoint.load(tmp_path / "m", TrainConfig(lr=3e-3), 1, model, opt, None, {})
    with pytest.raises(CheckpointError, match="made with 1 worker"):
        checkpoint.load(tmp_path / "m", TrainConfig(lr=1e-3), 2, model, opt, None, {})
    assert checkpoint.load(tmp_path / "m", TrainConfig(lr=1e-3, device="cpu"), 1, model, opt, None, {})[0] == 2


def test_damaged_checkpoint_is_one_clear_error_and_remove_takes_every_file(tmp_path):
    model, opt = stepped(0)
    checkpoint.save(tmp_path / "m", 1, TrainConfig(), 1, model, opt, None, {}, [])
    snapshots.path(tmp_path / "m").write_text("{}")
    tensors, state = checkpoint.paths(tmp_path / "m")
    tensors.write_bytes(tensors.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        checkpoint.load(tmp_path / "m", TrainConfig(), 1, model, opt, None, {})
    checkpoint.remove(tmp_path / "m")
    assert list(tmp_path.iterdir()) == []
    checkpoint.remove(tmp_path / "m")  # nothing left: still fine


def test_resume_without_a_checkpoint_is_refused(tmp_path):
    pytest.importorskip("torch")
    result = run("train", "--resume", "--limit", "300", "--quiet", "--out", tmp_path / "m")
    assert result.exit_code == 2 and "no checkpoint" in result.output and list(tmp_path.iterdir()) == []
