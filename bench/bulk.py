"""Bulk reading throughput: single process, local processes, local Ray; and a model of cluster scaling.

    .venv/bin/python bench/bulk.py                  # 20,000 small PNGs (MNIST test digits)
    .venv/bin/python bench/bulk.py -n 4000 --no-ray
    .venv/bin/python bench/bulk.py -n 10000 --kind enlarged --engines multi --no-unit-costs

Each engine runs in its own subprocess writing a JSON-lines output; its peak
memory is the largest sum of RSS over that subprocess's whole process tree
(workers, and for Ray the raylet, GCS and worker processes too), sampled every
0.2 s. RSS counts pages shared after fork once per process, so it overstates.
Then per-image costs are measured (decode+preprocess, inference at batch 256,
file reads, writing rows) and put into a bottleneck model of a cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

GB = 1e9


KINDS = ("mnist", "enlarged")  # 28x28 MNIST crops; the same digits 3x (84x84), dark on light


def make_images(folder: Path, n: int, kind: str = "mnist") -> list[str]:
    from PIL import Image

    from digitrec.io.mnist import load_split

    images = load_split("test").images
    paths = []
    for i in range(n):
        sub = folder / f"{i // 1000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        p = sub / f"{i:06d}.png"
        if not p.exists():
            img = Image.fromarray(images[i % len(images)])
            if kind == "enlarged":
                img = Image.fromarray(255 - np.asarray(img.resize((84, 84), Image.BILINEAR)))
            img.save(p)
        paths.append(str(p))
    return paths


def cpu_line() -> str:
    """The CPU model and its vector flags, from /proc/cpuinfo."""
    model, flags = "?", []
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = sorted(f for f in line.split(":", 1)[1].split() if f.startswith(("avx", "fma", "amx")))
                break
    except OSError:
        pass
    return f"{model} ({' '.join(flags)})"


def tree_rss(root: int) -> int:
    """Sum of VmRSS (bytes) of `root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def run_engine(engine: str, folder: Path, model: str, workers: int) -> dict:
    """Run one engine in a subprocess; returns its own timing plus the peak RSS of its process tree."""
    cmd = [
        sys.executable,
        __file__,
        "--child",
        engine,
        "--dir",
        str(folder),
        "--model",
        model,
        "--workers",
        str(workers),
    ]
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)  # one child at a time: the difference is this run's
    wall0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.2)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, _ = proc.communicate()
    t.join()
    wall = time.perf_counter() - wall0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = peak[0] / 2**20
    # CPU seconds of the whole process tree (start-up included): on a shared machine, files per
    # CPU-second is the figure that other jobs do not move; 2 / (CPU s a file) is what 2 free cores give.
    result["process_wall"] = wall
    result["user"], result["sys"] = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    result["files_per_cpu_s"] = result["files"] / max(result["user"] + result["sys"], 1e-9)
    return result


def child(engine: str, folder: str, model: str, workers: int) -> None:
    from digitrec import Recognizer
    from digitrec.io.writers import open_output
    from digitrec.read.bulk import predict_rows

    out = Path(tempfile.mkdtemp()) / "out.jsonl"
    writer, _ = open_output(out, kind="predict")
    start = time.perf_counter()
    startup = 0.0
    if engine == "ray":
        import ray

        from digitrec.read.ray import ray_rows

        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        startup = time.perf_counter() - start
        start = time.perf_counter()
        rows = ray_rows(model, [folder], actors=max(1, workers // 2))
    else:
        rows = predict_rows(Recognizer.load(model), [folder], workers=1 if engine == "single" else workers)
    with writer:
        summary = writer.write_all(rows)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "engine": engine,
                "files": summary.written,
                "seconds": seconds,
                "startup": startup,
                "rate": summary.written / seconds,
            }
        )
    )


def unit_costs(paths: list[str], model: str) -> dict:
    """Seconds per image for decode+preprocess, inference (batch 256), reading the bytes, writing a row."""
    from digitrec import Recognizer
    from digitrec.image.preprocess import prepare
    from digitrec.io.writers import JsonLinesWriter

    sample = paths[:1000]
    t = time.perf_counter()
    sizes = [len(Path(p).read_bytes()) for p in sample]
    read = (time.perf_counter() - t) / len(sample)
    t = time.perf_counter()
    prepared = [prepare(p) for p in sample]
    decode = (time.perf_counter() - t) / len(sample)
    photo = Path(__file__).resolve().parents[1] / "images" / "photo-4.jpg"
    data = photo.read_bytes()
    t = time.perf_counter()
    for _ in range(5):
        prepare(data)
    photo_decode = (time.perf_counter() - t) / 5
    rec = Recognizer.load(model, threads=1)
    x = np.stack([p.image for p in prepared[:256]])[:, None]
    rec.logits(x)
    t = time.perf_counter()
    for _ in range(5):
        rec.logits(x)
    infer = (time.perf_counter() - t) / (5 * len(x))
    rows = [p.as_dict() for p in rec.predict_paths(sample[:256], workers=1)] * 40
    with tempfile.TemporaryDirectory() as d:
        w = JsonLinesWriter(Path(d) / "w.jsonl", "predict")
        t = time.perf_counter()
        for i in range(0, len(rows), 256):
            w.write(rows[i : i + 256])
        write = (time.perf_counter() - t) / len(rows)
        w.close()
    return {
        "file_bytes": float(np.mean(sizes)), "read_s": read, "decode_s": decode, "infer_s": infer, "write_s": write,
        "photo_bytes": len(data), "photo_decode_s": photo_decode,
    }  # fmt: skip


def scaling_table(c: dict, file_bytes: float, decode_s: float, label: str) -> str:
    """Throughput (images/s) vs workers: min of compute, I/O and the driver's writer."""
    lines = [
        f"\n{label}: {file_bytes / 1e3:,.1f} KB a file, decode+preprocess {decode_s * 1e3:.2f} ms, inference {c['infer_s'] * 1e3:.3f} ms, "
        f"driver writes a row in {c['write_s'] * 1e6:.1f} us",
        "assumed: 8 cores per worker node, 10 Gb/s NIC per node (1.25 GB/s), object store 5,500 GET/s per prefix and 20 ms a GET,",
        "         16 GETs in flight per core; decode tasks and inference actors split the cores in proportion to their cost",
        f"{'cores':>6} {'compute':>10} {'network':>10} {'GET rate':>10} {'driver':>10} {'images/s':>10}  bottleneck",
    ]
    for cores in (1, 4, 16, 64, 256):
        nodes = max(1, cores / 8)
        compute = cores / (decode_s + c["infer_s"])
        network = nodes * 1.25 * GB / file_bytes
        gets = min(5500.0, cores * 16 / 0.020)
        driver = 1 / c["write_s"]
        limits = {"decode": compute, "network": network, "object-store GETs": gets, "driver writer": driver}
        name = min(limits, key=limits.get)
        lines.append(
            f"{cores:>6} {compute:>10,.0f} {network:>10,.0f} {gets:>10,.0f} {driver:>10,.0f} {limits[name]:>10,.0f}  {name}"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=20_000, help="number of PNG files")
    ap.add_argument("--model", default="seed")
    ap.add_argument(
        "--dir", default=None, help="where to write the PNGs (default: a temporary folder, kept for reruns)"
    )
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument(
        "--kind", choices=KINDS, default="mnist", help="28x28 MNIST crops, or 84x84 dark-on-light enlargements"
    )
    ap.add_argument("--engines", default=None, help="comma-separated subset of single,multi,ray")
    ap.add_argument("--no-unit-costs", action="store_true")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.dir, args.model, args.workers)
        return
    folder = Path(args.dir or Path(tempfile.gettempdir()) / f"digitrec-bulk-{args.kind}-{args.n}")
    paths = make_images(folder, args.n, args.kind)
    print(
        f"{len(paths):,} {args.kind} PNG files in {folder}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"CPU: {cpu_line()}")
    engines = args.engines.split(",") if args.engines else ["single", "multi"] + ([] if args.no_ray else ["ray"])
    for engine in engines:
        r = run_engine(engine, folder, args.model, args.workers)
        extra = f", Ray start-up {r['startup']:.1f}s not counted" if engine == "ray" else ""
        print(
            f"{engine:>7}: {r['files']:,} files in {r['seconds']:.1f}s = {r['rate']:,.0f} images/s, peak RSS {r['peak_rss_mb']:,.0f} MB{extra}; "
            f"whole process {r['process_wall']:.1f}s wall, user {r['user']:.1f}s, sys {r['sys']:.1f}s = {r['files_per_cpu_s']:,.0f} files per CPU-second"
        )
    if args.no_unit_costs:
        return
    c = unit_costs(paths, args.model)
    print(
        f"unit costs (1 core): read {c['read_s'] * 1e6:.0f} us ({c['file_bytes'] / c['read_s'] / 1e6:,.0f} MB/s, page cache), "
        f"decode+preprocess {c['decode_s'] * 1e3:.2f} ms, inference {c['infer_s'] * 1e3:.3f} ms/image at batch 256, "
        f"write {c['write_s'] * 1e6:.1f} us/row; a {c['photo_bytes'] / 1e3:.0f} KB phone photo decodes in {c['photo_decode_s'] * 1e3:.0f} ms"
    )
    print(scaling_table(c, c["file_bytes"], c["decode_s"], "small PNG (this benchmark)"))
    print(scaling_table(c, 200e3, c["photo_decode_s"], "200 KB scan or photo"))


if __name__ == "__main__":
    main()
