"""GPU figures in one go (issue 12): seed-recipe epochs, time to 99% (training and whole process), references.

    PYTHONPATH=src OUT=/tmp/out python bench/gpu.py               # on a CUDA machine, <= 150 s in all
    PYTHONPATH=src OUT=/tmp/out python bench/gpu.py --cpu-smoke   # tiny, on the CPU: checks the script itself

Each section runs in its own fresh process under a hard time limit (a hang or a crash
loses that section only), prints everything it measures, and the parent writes one
JSON object to $OUT/gpu_bench.json and prints a compact table. Sections:
  seed       digitrec's fit(), the notebook recipe (batch 200, Adam 1e-3): seconds per epoch
  fast       digitrec's fit(), large-batch onecycle recipes: training seconds to 99.0% test accuracy
  process    `python -m digitrec train` with the best fast recipe: whole process (start, data,
             training, export, calibration), wall seconds
  reference  the plain PyTorch examples/mnist loop (DataLoader over a float TensorDataset, batch 200,
             Adam 1e-3) on the same GPU: seconds per epoch
  resident   the issue's ~40-line loop (data on the GPU, batch 512, onecycle 4e-3, fused Adam),
             plain and as one CUDA graph per step: the floor for this network
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOTAL_BUDGET = 145.0  # seconds for everything, parent included
# Section -> its own hard limit (seconds); each also gets at most what is left of TOTAL_BUDGET.
LIMITS = {"seed": 30, "fast": 35, "process": 35, "reference": 25, "resident": 25}
# Large-batch recipes: (batch, peak lr, epochs). Rule used: Adam with onecycle keeps a peak lr of
# about 4e-3..8e-3 from batch 128 to 1024 (lr grows ~ sqrt(batch), capped at 8e-3); the CPU default
# (128, 5e-3, 2 epochs) is listed first for comparison.
RECIPES = [(128, 5e-3, 2), (256, 5e-3, 3), (512, 6e-3, 4), (512, 6e-3, 6), (1024, 8e-3, 6)]


def log(*a) -> None:
    print(*a, flush=True)


# ---------------------------------------------------------------- sections (each in a child process)


def _device(smoke: bool) -> str:
    return "cpu" if smoke else "cuda"


def section_seed(smoke: bool) -> dict:
    from digitrec.train.loop import TrainConfig, fit

    cfg = TrainConfig(epochs=2 if smoke else 4, device=_device(smoke), limit=2000 if smoke else None)
    r = fit(cfg, progress=False)
    return {"epoch_seconds": [round(e.seconds, 3) for e in r.history],
            "val_accuracy": [round(e.val_accuracy, 4) for e in r.history], "fit_seconds": round(r.seconds, 2)}  # fmt: skip


def _time_to_99(batch: int, lr: float, epochs: int, smoke: bool) -> dict:
    from digitrec.train.loop import TrainConfig, fit

    t0 = time.perf_counter()
    rows = []
    cfg = TrainConfig(epochs=epochs, batch_size=batch, lr=lr, schedule="onecycle", device=_device(smoke),
                      limit=6000 if smoke else None)  # fmt: skip
    fit(
        cfg,
        progress=False,
        on_epoch=lambda e: rows.append((e.epoch, e.val_accuracy, e.seconds, time.perf_counter() - t0)),
    )
    out = {"batch": batch, "lr": lr, "epochs": epochs, "val_accuracy": [round(r[1], 4) for r in rows],
           "epoch_seconds": [round(r[2], 3) for r in rows], "reached": None}  # fmt: skip
    for epoch, acc, _, since in rows:
        if acc >= 0.99:
            train = sum(r[2] for r in rows[:epoch])
            out["reached"] = {"epoch": epoch, "train_seconds": round(train, 3), "fit_seconds": round(since, 3)}
            break
    return out


def section_fast(smoke: bool) -> dict:
    recipes = [(128, 5e-3, 1), (256, 5e-3, 1)] if smoke else RECIPES
    _time_to_99(512, 6e-3, 1, smoke)  # warm-up: CUDA context, cuDNN autotuning, kernels loaded
    runs = []
    for batch, lr, epochs in recipes:
        runs.append(_time_to_99(batch, lr, epochs, smoke))
        log(json.dumps(runs[-1]))
    return {"runs": runs}


def section_process(smoke: bool, recipe: list) -> dict:
    batch, lr, epochs = recipe
    with tempfile.TemporaryDirectory() as d:
        cmd = [sys.executable, "-m", "digitrec", "train", "--device", _device(smoke), "--epochs", str(epochs),
               "--batch-size", str(batch), "--lr", str(lr), "--schedule", "onecycle", "--quiet", "--force",
               "--out", f"{d}/m"]  # fmt: skip
        if smoke:
            cmd += ["--limit", "6000"]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
    log(p.stdout[-2000:], p.stderr[-2000:])
    accs = [float(ln.rsplit("val_accuracy: ", 1)[1]) for ln in p.stdout.splitlines() if "val_accuracy: " in ln]
    return {"recipe": {"batch": batch, "lr": lr, "epochs": epochs}, "rc": p.returncode, "wall_seconds": round(wall, 2),
            "val_accuracy": accs, "tail": p.stdout.strip().splitlines()[-3:]}  # fmt: skip


def section_reference(smoke: bool) -> dict:
    """PyTorch's examples/mnist loop, moved to the GPU the usual way (.to(device) per batch)."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset

    from digitrec.io.mnist import load_mnist
    from digitrec.train.models import build

    dev = _device(smoke)
    train, test = load_mnist()
    n = 2000 if smoke else len(train)
    torch.manual_seed(0)
    x = torch.from_numpy(train.images[:n]).float().div(255).unsqueeze(1)
    y = torch.from_numpy(train.labels[:n].astype(np.int64))
    loader = DataLoader(TensorDataset(x, y), batch_size=200, shuffle=True)
    model = build("seed").to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times, accs = [], []
    xt = torch.from_numpy(test.images).float().div(255).unsqueeze(1).to(dev)
    yt = torch.from_numpy(test.labels.astype(np.int64)).to(dev)
    for _ in range(2 if smoke else 3):
        model.train()
        t0 = time.perf_counter()
        for data, target in loader:
            data, target = data.to(dev), target.to(dev)
            opt.zero_grad()
            F.cross_entropy(model(data), target).backward()
            opt.step()
        if dev == "cuda":
            torch.cuda.synchronize()
        times.append(round(time.perf_counter() - t0, 3))
        model.eval()
        with torch.no_grad():
            accs.append(round(float((model(xt).argmax(1) == yt).float().mean()), 4))
    return {"epoch_seconds": times, "val_accuracy": accs}


def _resident(smoke: bool, graph: bool) -> dict:
    """Data on the device, batch 512, onecycle 4e-3, fused Adam; `graph`: each step replayed as one CUDA graph."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from digitrec.io.mnist import load_mnist
    from digitrec.train.models import build

    dev = _device(smoke)
    graph = graph and dev == "cuda"
    train, test = load_mnist()
    n = 4096 if smoke else len(train)
    torch.manual_seed(0)
    x = torch.from_numpy(train.images[:n]).to(dev)
    y = torch.from_numpy(train.labels[:n].astype(np.int64)).to(dev)
    xt = torch.from_numpy(test.images).to(dev).unsqueeze(1).float().div(255)
    yt = torch.from_numpy(test.labels.astype(np.int64)).to(dev)
    model = build("seed").to(dev)
    bs, epochs = 512, 1 if smoke else 4
    steps = n // bs
    fused = {"fused": True, "capturable": graph} if dev == "cuda" else {}
    opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(4e-3, device=dev) if graph else 4e-3, eps=1e-7, **fused)
    # NOTE: no momentum cycling: a captured graph keeps Adam's betas as they were at capture (lr is a tensor).
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=4e-3, total_steps=epochs * steps, pct_start=0.3, cycle_momentum=False
    )
    xb = x[:bs].unsqueeze(1).float().div(255)  # static input buffers (a captured graph reads these addresses)
    yb = y[:bs].clone()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    if graph:  # warm up on a side stream, then capture one whole step (forward, backward, Adam)
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                step()
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            step()
        run = g.replay
    else:
        run = step
    times, accs = [], []
    for _ in range(epochs):
        model.train()
        t0 = time.perf_counter()
        order = torch.randperm(n, device=dev)
        for i in range(steps):
            idx = order[i * bs : (i + 1) * bs]
            xb.copy_(x[idx].unsqueeze(1).float().div_(255))
            yb.copy_(y[idx])
            run()
            sched.step()
        if dev == "cuda":
            torch.cuda.synchronize()
        times.append(round(time.perf_counter() - t0, 3))
        model.eval()
        with torch.no_grad():
            accs.append(round(float((model(xt).argmax(1) == yt).float().mean()), 4))
    return {"graph": graph, "epoch_seconds": times, "val_accuracy": accs}


def section_resident(smoke: bool) -> dict:
    out = {}
    for name, graph in (("plain", False), ("cuda_graph", True)):
        try:
            out[name] = _resident(smoke, graph)
        except Exception as e:  # noqa: BLE001 - a failed variant must not lose the other
            out[name] = {"error": f"{type(e).__name__}: {e}"}
        log(name, json.dumps(out[name]))
    return out


# ---------------------------------------------------------------- parent


def run_section(name: str, smoke: bool, deadline: float, extra: list[str] = ()) -> dict:
    limit = min(LIMITS[name] * (4 if smoke else 1), deadline - time.perf_counter())
    if limit < 5:
        return {"skipped": "no time left"}
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--section",
        name,
        *(["--cpu-smoke"] if smoke else []),
        *extra,
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        log(f"[{name}] TIMED OUT after {limit:.0f} s\n{out[-3000:]}")
        runs = [
            json.loads(ln) for ln in out.splitlines() if ln.startswith('{"batch"')
        ]  # fast: the recipes that finished
        return {
            "error": f"timed out after {limit:.0f} s",
            "partial_output": out[-3000:],
            **({"runs": runs} if runs else {}),
        }
    log(f"[{name}] rc={p.returncode} {time.perf_counter() - t0:.1f} s\n{p.stdout[-4000:]}{p.stderr[-3000:]}")
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    if p.returncode != 0 or not lines:
        return {"error": f"rc {p.returncode}", "stderr": p.stderr[-3000:]}
    res = json.loads(lines[-1][len("RESULT ") :])
    res["section_wall_seconds"] = round(time.perf_counter() - t0, 2)
    return res


def best_recipe(fast: dict) -> list:
    """The fast recipe that reached 99% in the least training time, or the issue's one."""
    done = [r for r in fast.get("runs", []) if r.get("reached")]
    if not done:
        return [512, 6e-3, 4]
    r = min(done, key=lambda r: r["reached"]["train_seconds"])
    return [r["batch"], r["lr"], r["epochs"]]  # all its epochs: onecycle's schedule depends on the count


def environment() -> dict:
    env = {"python": platform.python_version(), "host_cpu": platform.processor() or platform.machine()}
    try:
        import torch

        env["torch"] = torch.__version__
        env["cuda"] = torch.version.cuda
        env["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception as e:  # noqa: BLE001
        env["torch_error"] = str(e)
    try:
        import onnxruntime

        env["onnxruntime"] = onnxruntime.__version__
    except Exception as e:  # noqa: BLE001
        env["onnxruntime_error"] = str(e)
    try:
        env["cpu_model"] = next(
            ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")
        )
    except Exception:  # noqa: BLE001
        pass
    return env


def _recipe_row(r: dict) -> str:
    head = f"batch {r['batch']} lr {r['lr']} x{r['epochs']}: acc {r['val_accuracy']}; "
    if not r["reached"]:
        return head + "99% not reached"
    return (
        head
        + f"99% at epoch {r['reached']['epoch']}: train {r['reached']['train_seconds']} s, fit {r['reached']['fit_seconds']} s"
    )


def table(res: dict) -> str:
    rows = [
        (
            "GPU",
            f"{res['env'].get('gpu')} (torch {res['env'].get('torch')}, CUDA {res['env'].get('cuda')}); host {res['env'].get('cpu_model')}",
        )
    ]

    def get(name: str, fn):
        try:
            return fn(res[name])
        except Exception as e:  # noqa: BLE001 - a failed section shows its error
            return f"n/a ({res.get(name, {}).get('error') or res.get(name, {}).get('skipped') or type(e).__name__})"

    rows.append(
        ("seed recipe, s/epoch (acc)", get("seed", lambda s: f"{s['epoch_seconds']} ({s['val_accuracy'][-1]})"))
    )
    rows.append(
        (
            "plain reference, s/epoch (acc)",
            get("reference", lambda s: f"{s['epoch_seconds']} ({s['val_accuracy'][-1]})"),
        )
    )
    for i in range(max(1, len(res.get("fast", {}).get("runs", [])))):
        rows.append((f"fast recipe #{i}", get("fast", lambda s, i=i: _recipe_row(s["runs"][i]))))
    rows.append(
        (
            "whole `digitrec train` process",
            get("process", lambda s: f"{s['wall_seconds']} s, rc {s['rc']}, {s['recipe']}, acc {s['val_accuracy']}"),
        )
    )
    for v in ("plain", "cuda_graph"):
        rows.append(
            (
                f"resident loop ({v}), s/epoch (acc)",
                get(
                    "resident",
                    lambda s, v=v: (
                        f"{s[v]['epoch_seconds']} ({s[v]['val_accuracy'][-1]})"
                        if "error" not in s[v]
                        else s[v]["error"]
                    ),
                ),
            )
        )
    rows.append(("total", f"{res['total_seconds']} s"))
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{w}}  {v}" for k, v in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cpu-smoke", action="store_true", help="tiny runs on the CPU: checks the script, not the GPU")
    ap.add_argument("--section", choices=sorted(LIMITS), help=argparse.SUPPRESS)
    ap.add_argument("--recipe", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.section:
        fn = globals()[f"section_{args.section}"]
        res = fn(args.cpu_smoke, json.loads(args.recipe)) if args.section == "process" else fn(args.cpu_smoke)
        print("RESULT " + json.dumps(res), flush=True)
        return

    start = time.perf_counter()
    deadline = start + TOTAL_BUDGET * (4 if args.cpu_smoke else 1)  # a shared CPU is slow; smoke checks the script
    out_dir = Path(os.environ.get("OUT") or tempfile.mkdtemp(prefix="gpu_bench_"))
    out_dir.mkdir(parents=True, exist_ok=True)
    res: dict = {"smoke": args.cpu_smoke, "env": environment()}
    log(json.dumps(res["env"]))
    if not args.cpu_smoke and not res["env"].get("gpu"):
        log("no CUDA GPU visible to torch: every section will fail; run with --cpu-smoke to check the script on a CPU")
    for name in ("seed", "fast", "process", "reference", "resident"):
        try:
            extra = ["--recipe", json.dumps(best_recipe(res.get("fast", {})))] if name == "process" else []
            res[name] = run_section(name, args.cpu_smoke, deadline, extra)
        except Exception as e:  # noqa: BLE001 - one broken section must not lose the others
            res[name] = {"error": f"{type(e).__name__}: {e}"}
        res["total_seconds"] = round(time.perf_counter() - start, 1)
        (out_dir / "gpu_bench.json").write_text(json.dumps(res, indent=1))  # after every section: a kill keeps the rest
    print(table(res))
    print(f"wrote {out_dir / 'gpu_bench.json'}")


if __name__ == "__main__":
    main()
