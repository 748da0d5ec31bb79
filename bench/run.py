"""The measuring stick: training and inference speed of digitrec against plain references.

    python bench/run.py            # full run (~10 minutes on 2 cores)
    python bench/run.py --quick    # a few minutes: subsets, fewer repeats
    python bench/run.py --json     # one JSON object instead of the table

Headline figures are whole fresh processes, never two trainers in one process (the
one that runs second inherits the first one's heap and warm caches). Each comparison
runs its two sides in turn, A B A B, for --pairs pairs (>= 3), and reports the median
wall time, the ratio within each pair, user and sys CPU seconds and each process's
peak RSS (through a small launcher process, so a figure never includes another process). Measured:
1. one seed-network training epoch (notebook recipe, then the test set): the plain
   reference written like PyTorch's examples/mnist against digitrec's trainer, and
   digitrec with and without its malloc tuning (digitrec.train.allocator);
2. time to 99.0% MNIST test accuracy from a cold process start (fast recipe), and the
   whole `digitrec train` process with export and calibration;
3. latency of one `digitrec predict one.png` as a fresh process (median);
4. end-to-end files/s of `digitrec predict --json` over a folder of small PNGs.
Secondary, in this process: inference images/s, warm API latency, and the in-process
epoch seconds the children report. The CPU model and flags are printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def cpu_info() -> dict:
    info = {"model": platform.processor() or "?", "cores": os.cpu_count(), "flags": []}
    try:
        text = Path("/proc/cpuinfo").read_text()
        for line in text.splitlines():
            if line.startswith("model name") and info["model"] in ("?", "", platform.machine()):
                info["model"] = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                info["flags"] = sorted(
                    f for f in flags if f.startswith(("avx", "fma", "amx")) or f in ("sse4_2", "f16c")
                )
                break
        mhz = [float(ln.split(":")[1]) for ln in text.splitlines() if ln.startswith("cpu MHz")]
        info["mhz"] = max(mhz) if mhz else None
    except OSError:
        pass
    return info


def peak_gflops(info: dict) -> float | None:
    """FP32 peak: cores x GHz x FLOPs/cycle (2 FMA units x vector lanes x 2)."""
    if not info.get("mhz"):
        return None
    flags = set(info["flags"])
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    per_cycle = 2 * lanes * (2 if "fma" in flags or "avx512f" in flags else 1)
    return info["cores"] * info["mhz"] / 1000 * per_cycle


def seed_flops_per_image() -> int:
    """Forward FLOPs of the seed network (multiply-adds x 2), from its layer shapes."""
    conv1 = 2 * (1 * 5 * 5) * 32 * 24 * 24
    conv2 = 2 * (32 * 3 * 3) * 32 * 10 * 10
    dense1 = 2 * 800 * 128
    dense2 = 2 * 128 * 10
    return conv1 + conv2 + dense1 + dense2


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- training


def reference_epochs(train, test, epochs: int, limit: int | None, seed: int = 0) -> tuple[list[float], float]:
    """PyTorch's examples/mnist loop: float32 TensorDataset, DataLoader(shuffle=True), default layout."""
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset

    from digitrec.train.models import build

    torch.manual_seed(seed)
    n = limit or len(train)
    x = torch.from_numpy(train.images[:n]).float().div(255).unsqueeze(1)
    y = torch.from_numpy(train.labels[:n].astype(np.int64))
    loader = DataLoader(TensorDataset(x, y), batch_size=200, shuffle=True)
    model = build("seed")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for _ in range(epochs):
        model.train()
        t0 = time.perf_counter()
        for data, target in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(data), target)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        xt = torch.from_numpy(test.images).float().div(255).unsqueeze(1)
        acc = float((model(xt).argmax(1).numpy() == test.labels).mean())
    return times, acc


def digitrec_epochs(train, test, epochs: int, limit: int | None) -> tuple[list[float], float]:
    from digitrec.train.loop import TrainConfig, fit

    result = fit(TrainConfig(epochs=epochs, limit=limit), data=(train, test), progress=False)
    return [e.seconds for e in result.history], result.final.val_accuracy


def child_epoch(kind: str, epochs: int, limit: int | None) -> None:
    """In a fresh process: train `kind` ("reference" or "digitrec") and print its in-process figures."""
    from digitrec.io.mnist import load_mnist

    train, test = load_mnist()
    fn = reference_epochs if kind == "reference" else digitrec_epochs
    times, acc = fn(train, test, epochs, limit)
    print(json.dumps({"epoch_seconds": times, "accuracy": acc}))


# Runs a command and writes its CPU seconds and peak RSS to the file named first. A launcher,
# because a child's peak RSS on Linux starts from its parent's (fork/vfork, then exec keeps the
# high-water mark): this small process is the parent, not the benchmark holding MNIST and models.
LAUNCHER = """
import json, resource, subprocess, sys
rc = subprocess.run(sys.argv[2:]).returncode
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(json.dumps({"rc": rc, "user": ru.ru_utime, "sys": ru.ru_stime, "maxrss_kb": ru.ru_maxrss}))
"""


def run_measured(cmd: list[str], env: dict | None = None) -> dict:
    """Run `cmd` as a fresh process: wall, user and sys seconds, peak RSS (MB) of it alone, and its stdout."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r", suffix=".json") as usage:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", LAUNCHER, usage.name, *map(str, cmd)], stdout=out,
                       stderr=subprocess.DEVNULL, cwd=ROOT, env={**os.environ, **(env or {})}, check=True)  # fmt: skip
        wall = time.perf_counter() - t0
        ru = json.loads(Path(usage.name).read_text())
        out.seek(0)
        text = out.read().decode()
    if ru["rc"] != 0:
        raise RuntimeError(f"{cmd[:4]}... exited {ru['rc']}")
    return {"wall": round(wall, 3), "user": round(ru["user"], 2), "sys": round(ru["sys"], 2),
            "peak_rss_mb": round(ru["maxrss_kb"] / 1024, 1), "stdout": text}  # fmt: skip


def interleaved(arms: dict[str, tuple[list[str], dict]], pairs: int, log) -> dict:
    """Run every arm once per round, in order (A B A B ...), `pairs` rounds; medians and per-round ratios to the first arm."""
    runs: dict[str, list[dict]] = {name: [] for name in arms}
    for i in range(pairs):
        for name, (cmd, env) in arms.items():
            r = run_measured(cmd, env)
            tail = r.pop("stdout").strip().splitlines()
            r["result"] = json.loads(tail[-1]) if tail and tail[-1].startswith("{") else None
            runs[name].append(r)
            log(
                f"  round {i + 1}/{pairs} {name}: {r['wall']:.2f} s wall, user {r['user']} s, sys {r['sys']} s, {r['peak_rss_mb']} MB"
            )
    first = next(iter(arms))
    summary = {}
    for name, rs in runs.items():
        summary[name] = {k: statistics.median(r[k] for r in rs) for k in ("wall", "user", "sys", "peak_rss_mb")}
        summary[name]["runs"] = rs
        if name != first:
            ratios = [a["wall"] / b["wall"] for a, b in zip(runs[first], rs)]
            summary[name][f"speedup_vs_{first}"] = [round(x, 2) for x in ratios]
            summary[name][f"median_speedup_vs_{first}"] = round(statistics.median(ratios), 2)
    return summary


def epoch_comparison(pairs: int, limit: int | None, log) -> dict:
    """reference vs digitrec vs digitrec without malloc tuning: one epoch each, whole processes."""
    me = [sys.executable, str(Path(__file__).resolve()), "--child"]
    lim = ["--limit", str(limit)] if limit else []
    arms = {
        "reference": ([*me, "reference", *lim], {}),
        "digitrec": ([*me, "digitrec", *lim], {}),
        "digitrec_default_malloc": ([*me, "digitrec", *lim], {"DIGITREC_MALLOPT": "0"}),
    }
    return interleaved(arms, pairs, log)


def cli_train_process(pairs: int, log) -> dict:
    """`digitrec train` with the fast recipe as a whole process: start, data, 2 epochs, export, calibration."""
    with tempfile.TemporaryDirectory() as d:
        cmd = [sys.executable, "-m", "digitrec", "train", "--epochs", "2", "--batch-size", "128", "--lr", "5e-3",
               "--schedule", "onecycle", "--quiet", "--force", "--out", f"{d}/m"]  # fmt: skip
        rs = []
        for i in range(pairs):
            r = run_measured(cmd)
            lines = r.pop("stdout").splitlines()
            r["val_accuracy"] = [float(ln.rsplit("val_accuracy: ", 1)[1]) for ln in lines if "val_accuracy: " in ln]
            rs.append(r)
            log(f"  run {i + 1}/{pairs}: {r['wall']:.2f} s wall, accuracy {r['val_accuracy']}, {r['peak_rss_mb']} MB")
    return {**{k: statistics.median(r[k] for r in rs) for k in ("wall", "user", "sys", "peak_rss_mb")}, "runs": rs}


TIME_TO_TARGET = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from digitrec.train.loop import TrainConfig, fit
cfg = TrainConfig(**json.loads(sys.argv[1]))
class Reached(Exception): pass
def on_epoch(e):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"epoch": e.epoch, "val_accuracy": e.val_accuracy, "t": time.perf_counter() - t0, "rss_mb": rss}), flush=True)
    if e.val_accuracy >= 0.99: raise Reached
try:
    fit(cfg, on_epoch=on_epoch, progress=False)
except Reached:
    pass
"""


def time_to_99(config: dict) -> dict:
    """Wall time from process start to the end of the first epoch at >= 99.0% test accuracy."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", TIME_TO_TARGET, json.dumps(config)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    last = None
    for line in proc.stdout:
        last = json.loads(line)
        last["wall"] = time.perf_counter() - start
        if last["val_accuracy"] >= 0.99:
            break
    proc.wait()
    reached = last is not None and last["val_accuracy"] >= 0.99
    return {"seconds": round(last["wall"], 2) if reached else None, "epochs": last and last["epoch"],
            "val_accuracy": last and last["val_accuracy"], "reached": reached,
            "peak_rss_mb": last and round(last["rss_mb"], 1)}  # fmt: skip


# ---------------------------------------------------------------- inference


def throughput(model: str, test, repeats: int) -> float:
    from digitrec import Recognizer

    rec = Recognizer.load(model)
    rec.predict_arrays(test.images[:1000])
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        rec.predict_arrays(test.images, batch=1000)
        best = max(best, len(test.images) / (time.perf_counter() - t0))
    return best


def cold_predict_latency(image: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([digitrec_bin(), "predict", "--model", "seed", str(image)], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def warm_api_latency(image: Path, runs: int) -> float:
    from digitrec import Recognizer

    rec = Recognizer.load("seed")
    rec.predict(image)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        rec.predict(image)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def folder_throughput(test, n: int) -> dict:
    """files/s, user/sys seconds and peak RSS (MB) of `digitrec predict --json DIR` over n MNIST PNGs, a fresh process."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as d:
        for i in range(n):
            Image.fromarray(test.images[i % len(test.images)]).save(f"{d}/{i:06d}.png")
        r = run_measured([str(digitrec_bin()), "predict", "--json", "--model", "seed", d])
        lines = r.pop("stdout").splitlines()
        assert len(lines) == n, f"expected {n} JSON lines, got {len(lines)}"
    return {"files": n, "files_per_s": round(n / r["wall"]), **r}


def digitrec_bin() -> Path:
    return BIN / "digitrec"


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="subsets and fewer repeats: a few minutes")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--skip-train", action="store_true", help="inference figures only (no torch needed)")
    ap.add_argument(
        "--pairs", type=int, default=3, help="rounds of each interleaved comparison (>= 3 for headline figures)"
    )
    ap.add_argument("--child", choices=["reference", "digitrec"], help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_epoch(args.child, 1, args.limit)
        return

    from digitrec.io.mnist import load_mnist
    from digitrec.train import allocator

    allocator.tune()  # the in-process (secondary) figures get what `digitrec train` gets
    train, test = load_mnist()
    info = cpu_info()
    res: dict = {"cpu": info, "python": platform.python_version(), "quick": args.quick, "pairs": args.pairs,
                 "malloc_tuning": dict(allocator.APPLIED)}  # fmt: skip
    q = args.quick
    log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
    log(f"CPU: {info['model']} ({info['cores']} cores; {' '.join(info['flags'])})")

    if not args.skip_train:
        import torch

        res["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
        limit = 12_000 if q else None
        log(f"one seed epoch, whole processes, {args.pairs} interleaved rounds ...")
        cmp = epoch_comparison(args.pairs, limit, log)
        n = limit or len(train)
        res["train_epoch"] = {
            "images": n,
            **{k: {kk: vv for kk, vv in v.items() if kk != "runs"} for k, v in cmp.items()},
        }
        res["train_epoch_runs"] = {k: v["runs"] for k, v in cmp.items()}
        # Secondary: the epoch seconds the children timed inside themselves, scaled to 60,000 images.
        inner = {
            k: statistics.median(r["result"]["epoch_seconds"][0] for r in v["runs"]) * len(train) / n
            for k, v in cmp.items()
        }
        res["train_epoch_in_process_seconds"] = {k: round(v, 2) for k, v in inner.items()}
        flops = seed_flops_per_image() * 3 * len(train)  # forward + backward ~ 3x forward
        peak = peak_gflops(info)
        res["train_gflops"] = {
            "flops_per_image_forward": seed_flops_per_image(), "epoch_tflop": round(flops / 1e12, 3),
            "digitrec": round(flops / inner["digitrec"] / 1e9, 1), "reference": round(flops / inner["reference"] / 1e9, 1),
            "peak": round(peak, 1) if peak else None,
            "fraction_of_peak": round(flops / inner["digitrec"] / 1e9 / peak, 3) if peak else None,
        }  # fmt: skip
        if not q:
            log("time to 99%: fast recipe, fresh processes ...")
            fast = {"epochs": 2, "batch_size": 128, "lr": 5e-3, "schedule": "onecycle"}
            runs = [time_to_99(fast) for _ in range(args.pairs)]
            secs = [r["seconds"] for r in runs if r["reached"]]
            res["time_to_99"] = {
                "fast_recipe": fast,
                "runs": runs,
                "median_seconds": statistics.median(secs) if secs else None,
            }
            log("whole `digitrec train` (fast recipe, export, calibration) ...")
            res["cli_train_process"] = cli_train_process(args.pairs, log)

    log("inference ...")
    from digitrec.store import default_model

    res["inference_images_per_s"] = {
        m: round(throughput(m, test, 2 if q else 5)) for m in sorted({"seed", default_model()})
    }
    image = ROOT / "images" / "mnist-7.png"
    res["cold_predict_seconds"] = round(cold_predict_latency(image, 5 if q else 9), 3)
    res["warm_api_ms"] = round(1000 * warm_api_latency(image, 50 if q else 300), 3)
    files = 2000 if q else 10_000
    log(f"end to end over {files} PNG files ...")
    res["folder"] = folder_throughput(test, files)
    res["bench_process_peak_rss_mb"] = round(rss_mb(), 1)

    if args.json:
        print(json.dumps(res))
    else:
        print(table(res))


def table(r: dict) -> str:
    c = r["cpu"]
    rows = [("CPU", f"{c['model']} ({c['cores']} cores; {' '.join(c['flags'])})")]
    if "train_epoch" in r:
        t = r["train_epoch"]
        for k, v in t.items():
            if k == "images":
                continue
            ratio = (
                f"; speed-up vs reference {v['median_speedup_vs_reference']}x (per round {v['speedup_vs_reference']})"
                if k != "reference"
                else ""
            )
            rows.append(
                (
                    f"seed epoch process, {k}",
                    f"{v['wall']:.1f} s wall, user {v['user']} s, sys {v['sys']} s, {v['peak_rss_mb']} MB{ratio}",
                )
            )
        rows.append(("  (in-process epoch, secondary)", ", ".join(f"{k} {v} s" for k, v in r["train_epoch_in_process_seconds"].items())
                     + f"; {t['images']:,} images, scaled to 60,000"))  # fmt: skip
        g = r["train_gflops"]
        rows.append(("training GFLOP/s", f"{g['digitrec']} (reference {g['reference']}; peak {g['peak']}, {g['fraction_of_peak']:.1%} of peak)"
                     if g["peak"] else f"{g['digitrec']}"))  # fmt: skip
        if "time_to_99" in r:
            v = r["time_to_99"]
            rows.append(
                (
                    "time to 99.0% from cold start",
                    f"{v['median_seconds']} s median ({[x['seconds'] for x in v['runs']]}); peak RSS {v['runs'][0]['peak_rss_mb']} MB",
                )
            )
            p = r["cli_train_process"]
            rows.append(
                (
                    "whole `digitrec train`, fast recipe",
                    f"{p['wall']:.1f} s wall (train, export, calibration), user {p['user']} s, sys {p['sys']} s, {p['peak_rss_mb']} MB",
                )
            )
    for m, v in r["inference_images_per_s"].items():
        rows.append((f"inference, {m} (in-process)", f"{v:,} images/s"))
    f = r["folder"]
    rows += [
        ("cold `digitrec predict one.png`", f"{r['cold_predict_seconds']:.3f} s (median)"),
        ("warm API, one image (in-process)", f"{r['warm_api_ms']:.2f} ms (median)"),
        (
            f"end to end, {f['files']:,} PNGs",
            f"{f['files_per_s']:,} files/s, user {f['user']} s, sys {f['sys']} s, peak RSS {f['peak_rss_mb']} MB",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


if __name__ == "__main__":
    main()
