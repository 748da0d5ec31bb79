"""digitrec installed as a user installs it: the built wheel in a fresh venv, run from a folder outside the repository.

The wheel is built from a copy of the sources (never from a stale build/), installed with --no-deps into two fresh
venvs, and the command runs with no PYTHONPATH and no src/ in sight. The venvs find the third-party packages (numpy,
onnxruntime, torch, ...) through a .pth file pointing at the dev venv's site-packages, since the tests run offline:
"full" sees all of them, "light" all but torch, as after `make demo`. Neither sees the dev venv's editable digitrec.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

TORCH = ("torch", "functorch", "nvidia", "triton")  # what the `train` extra brings (names start so)


def run(args: list, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(cwd)), "LANG": "C.UTF-8"}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def third_party(into: Path, torch: bool) -> Path:
    """A folder of links to the dev venv's packages, minus digitrec itself (and torch unless `torch`)."""
    into.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        name = entry.name.lower()
        if name.startswith(("digitrec", "__editable__", "_digitrec")) or name.endswith(".pth"):
            continue
        if not torch and name.startswith(TORCH):
            continue
        (into / entry.name).symlink_to(entry)
    return into


def fresh_venv(path: Path, wheel: Path, deps: Path) -> Path:
    """A new venv at `path` holding only the wheel; returns its bin/ folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)]
    subprocess.run(pip, check=True, capture_output=True)
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], path).stdout.strip()
    # NOTE: a .pth in the venv's own site-packages puts the links *after* it on sys.path, as installed deps would be
    # (ahead of it, opencv's loader finds its own package twice and refuses to load).
    (Path(site) / "third-party.pth").write_text(f"{deps}\n")
    return path / "bin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    build = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q", "-w", base]
    subprocess.run(build, check=True, capture_output=True)
    (wheel,) = base.glob("digitrec-*.whl")
    light = fresh_venv(base / "light", wheel, third_party(base / "deps-light", torch=False))
    full = fresh_venv(base / "full", wheel, third_party(base / "deps-full", torch=True))
    user = base / "user"  # the user's own folder: no src/, no data/, no models/
    shutil.copytree(ROOT / "images", user / "images")
    return {"wheel": wheel, "light": light, "full": full, "user": user}


def test_wheel_carries_mnist_weights_and_page(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for split in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "SHA256SUMS"):
        assert f"digitrec/mnist/{split}" in names
    assert {"digitrec/weights/seed.onnx", "digitrec/weights/strong.onnx", "digitrec/server/static/index.html"} <= names


def test_installed_package_is_the_wheel_not_the_clone(installed):
    where = run([installed["light"] / "python", "-c", "import digitrec; print(digitrec.__file__)"], installed["user"])
    assert where.returncode == 0, where.stderr
    assert str(installed["light"].parent) in where.stdout and str(ROOT) not in where.stdout
    torch = run([installed["light"] / "python", "-c", "import torch"], installed["user"])
    assert "No module named 'torch'" in torch.stderr


def test_light_install_predicts_evaluates_and_lists_models(installed):
    digitrec, user = installed["light"] / "digitrec", installed["user"]
    out = run([digitrec, "predict", "images/mnist-7.png", "images/drawn-3.png"], user)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].split("\t")[:2] == ["images/mnist-7.png", "7"]
    assert out.stdout.splitlines()[1].split("\t")[:2] == ["images/drawn-3.png", "3"]
    ev = run([digitrec, "evaluate", "--model", "seed", "--json"], user)
    assert ev.returncode == 0, ev.stderr
    result = json.loads(ev.stdout)
    assert result["count"] == 10_000 and result["accuracy"] > 0.98
    models = run([digitrec, "models"], user)
    assert models.returncode == 0, models.stderr
    assert "seed" in models.stdout and "strong" in models.stdout


def test_light_install_train_says_what_to_install(installed):
    out = run([installed["light"] / "digitrec", "train", "--epochs", "1", "--out", "m/x"], installed["user"])
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert 'pip install "digitrec[train]"' in out.stderr
    assert not (installed["user"] / "m").exists()


def test_notebook_script_without_torch_reads_with_seed(installed):
    # the notebook's own command after `make demo`: no traceback, the seed model, and how to get training
    user = installed["user"]
    shutil.copy(ROOT / "digitrec.py", user / "digitrec.py")
    out = run([installed["light"] / "python", "digitrec.py", "mnist-7.png"], user)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and 'pip install "digitrec[train]"' in out.stderr
    assert "Test accuracy: 0.98" in out.stdout
    assert out.stdout.count("mnist-7.png: 7") == 2  # once from images/, once as the named image
    assert not (user / "models").exists()


def test_full_install_trains_then_evaluates_and_predicts(installed, tmp_path):
    digitrec = installed["full"] / "digitrec"
    shutil.copytree(installed["user"] / "images", tmp_path / "images")
    train = run([digitrec, "train", "--epochs", "1", "--limit", "2000", "--out", "models/tiny"], tmp_path, timeout=600)
    assert train.returncode == 0, train.stderr
    assert (tmp_path / "models" / "tiny.onnx").is_file() and (tmp_path / "models" / "tiny.json").is_file()
    ev = run([digitrec, "evaluate", "--model", "models/tiny", "--json"], tmp_path)
    assert ev.returncode == 0, ev.stderr
    assert json.loads(ev.stdout)["accuracy"] > 0.3  # one epoch on 2,000 digits: far above chance, far from good
    out = run([digitrec, "predict", "--model", "models/tiny", "images/mnist-7.png"], tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("images/mnist-7.png\t"), out.stderr
