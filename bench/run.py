"""The measuring stick: training and inference speed of digitrec against plain references, in one run.

    python bench/run.py            # full run (~10 minutes on 2 cores)
    python bench/run.py --quick    # about a minute: subsets, fewer repeats
    python bench/run.py --json     # one JSON object instead of the table

Measures, side by side on this machine:
1. seconds per training epoch of the seed network (notebook recipe): digitrec's trainer vs a plain
   reference written like PyTorch's examples/mnist (DataLoader over a float32 TensorDataset, defaults);
2. time to 99.0% MNIST test accuracy from a cold process start: digitrec's fast recipe and the notebook's;
3. inference throughput (images/s) over the 10,000 test images, seed and default model;
4. latency of one `digitrec predict one.png` as a fresh process (median), and of the API in a warm process;
5. end-to-end files/s of `digitrec predict --json` over a folder of 10,000 small PNGs;
6. achieved training GFLOP/s, from the seed network's FLOPs per image, against the CPU's peak.
Peak RSS is reported beside each speed figure. Uses only digitrec's public API and its CLI.
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
                info["flags"] = sorted(f for f in flags if f.startswith(("avx", "fma", "amx")) or f in ("sse4_2", "f16c"))
                break
        mhz = [float(l.split(":")[1]) for l in text.splitlines() if l.startswith("cpu MHz")]
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

    from digitrec.models import build

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
    from digitrec.train import TrainConfig, fit

    result = fit(TrainConfig(epochs=epochs, limit=limit), data=(train, test), progress=False)
    return [e.seconds for e in result.history], result.final.val_accuracy


TIME_TO_TARGET = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from digitrec.train import TrainConfig, fit
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
    proc = subprocess.Popen([sys.executable, "-c", TIME_TO_TARGET, json.dumps(config)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
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
        subprocess.run([BIN / "digitrec", "predict", "--model", "seed", str(image)], check=True, capture_output=True)
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


def folder_throughput(test, n: int) -> tuple[float, float]:
    """files/s and peak RSS (MB) of `digitrec predict --json DIR` over n MNIST PNGs."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as d:
        for i in range(n):
            Image.fromarray(test.images[i % len(test.images)]).save(f"{d}/{i:06d}.png")
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", MEASURED, str(BIN / "digitrec"), "predict", "--json", "--model", "seed", d],
                             check=True, capture_output=True)  # fmt: skip
        seconds = time.perf_counter() - t0
        *lines, peak = out.stdout.splitlines()
        assert len(lines) == n, f"expected {n} JSON lines, got {len(lines)}"
    return n / seconds, float(peak)


# Runs a command and prints, last, the peak RSS in MB of its largest process (main or worker),
# so figures from earlier children of the benchmark (training runs) do not leak in.
MEASURED = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="subsets and fewer repeats: about a minute")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--skip-train", action="store_true", help="inference figures only (no torch needed)")
    args = ap.parse_args()

    from digitrec.data import load_mnist

    train, test = load_mnist()
    info = cpu_info()
    res: dict = {"cpu": info, "python": platform.python_version(), "quick": args.quick}
    q = args.quick
    log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))

    if not args.skip_train:
        import torch

        res["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
        epochs, limit = (1, 12_000) if q else (5, None)
        log("training: plain reference ...")
        ref_t, ref_acc = reference_epochs(train, test, epochs, limit)
        log("training: digitrec ...")
        ours_t, ours_acc = digitrec_epochs(train, test, epochs, limit)
        n = limit or len(train)
        per_epoch = lambda ts: statistics.median(ts) * len(train) / n  # noqa: E731 - scaled to 60,000 images
        res["train_epoch_seconds"] = {
            "reference": round(per_epoch(ref_t), 2), "digitrec": round(per_epoch(ours_t), 2),
            "speedup": round(per_epoch(ref_t) / per_epoch(ours_t), 2),
            "reference_accuracy": ref_acc, "digitrec_accuracy": ours_acc, "epochs": epochs, "images": n,
        }  # fmt: skip
        flops = seed_flops_per_image() * 3 * len(train)  # forward + backward ~ 3x forward
        peak = peak_gflops(info)
        res["train_gflops"] = {
            "flops_per_image_forward": seed_flops_per_image(),
            "epoch_tflop": round(flops / 1e12, 3),
            "digitrec": round(flops / per_epoch(ours_t) / 1e9, 1),
            "reference": round(flops / per_epoch(ref_t) / 1e9, 1),
            "peak": round(peak, 1) if peak else None,
            "fraction_of_peak": round(flops / per_epoch(ours_t) / 1e9 / peak, 3) if peak else None,
        }
        if not q:
            log("time to 99%: fast recipe ...")
            fast = {"epochs": 2, "batch_size": 128, "lr": 5e-3, "schedule": "onecycle"}
            res["time_to_99"] = {"fast_recipe": fast, "fast": time_to_99(fast)}
            log("time to 99%: notebook recipe ...")
            res["time_to_99"]["notebook"] = time_to_99({"epochs": 10})
        # NOTE: this process ran both trainers (the reference holds a float32 copy of MNIST);
        # the digitrec trainer's own peak is in time_to_99 (a fresh process per recipe).
        res["bench_process_peak_rss_mb"] = round(rss_mb(), 1)

    log("inference ...")
    from digitrec.store import default_model

    res["inference_images_per_s"] = {m: round(throughput(m, test, 2 if q else 5)) for m in sorted({"seed", default_model()})}
    image = ROOT / "images" / "mnist-7.png"
    res["cold_predict_seconds"] = round(cold_predict_latency(image, 3 if q else 7), 3)
    res["warm_api_ms"] = round(1000 * warm_api_latency(image, 50 if q else 300), 3)
    files = 2000 if q else 10_000
    log(f"end to end over {files} PNG files ...")
    fps, peak_rss = folder_throughput(test, files)
    res["folder_files_per_s"] = {"files": files, "files_per_s": round(fps), "peak_rss_mb": round(peak_rss, 1)}
    res["peak_rss_mb"] = round(rss_mb(), 1)

    if args.json:
        print(json.dumps(res))
    else:
        print(table(res))


def table(r: dict) -> str:
    rows = [("CPU", f"{r['cpu']['model']} ({r['cpu']['cores']} cores; {' '.join(r['cpu']['flags'])})")]
    if "train_epoch_seconds" in r:
        t = r["train_epoch_seconds"]
        rows += [
            ("seed epoch, plain reference", f"{t['reference']:.1f} s  (test acc {t['reference_accuracy']:.4f})"),
            ("seed epoch, digitrec", f"{t['digitrec']:.1f} s  (test acc {t['digitrec_accuracy']:.4f})"),
            ("speed-up", f"{t['speedup']:.2f}x  ({t['epochs']} epoch(s) on {t['images']:,} images, scaled to 60,000)"),
        ]
        g = r["train_gflops"]
        rows.append(("training GFLOP/s", f"{g['digitrec']} (reference {g['reference']}; peak {g['peak']}, {g['fraction_of_peak']:.1%} of peak)"
                     if g["peak"] else f"{g['digitrec']}"))  # fmt: skip
        if "time_to_99" in r:
            for k in ("fast", "notebook"):
                v = r["time_to_99"][k]
                rows.append((f"time to 99.0%, {k}", f"{v['seconds']} s ({v['epochs']} epochs)" if v["reached"] else f"not reached ({v['val_accuracy']})"))
        if "time_to_99" in r:
            rows.append(("digitrec trainer peak RSS", f"{r['time_to_99']['fast']['peak_rss_mb']} MB (fast recipe process)"))
    for m, v in r["inference_images_per_s"].items():
        rows.append((f"inference, {m}", f"{v:,} images/s"))
    rows += [
        ("cold `digitrec predict one.png`", f"{r['cold_predict_seconds']:.3f} s (median)"),
        ("warm API, one image", f"{r['warm_api_ms']:.2f} ms (median)"),
        (f"end to end, {r['folder_files_per_s']['files']:,} PNGs", f"{r['folder_files_per_s']['files_per_s']:,} files/s, peak RSS {r['folder_files_per_s']['peak_rss_mb']} MB"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


if __name__ == "__main__":
    main()
