"""Bounded load test of POST /api/predict: requests/s, p50/p99 latency, errors.

Starts `digitrec serve` on a free 127.0.0.1 port in a child process, sends a
fixed number of requests from a few concurrent clients, stops the server.

    .venv/bin/python bench/load_test.py                      # 2,000 requests, 8 clients, images/mnist-7.png
    .venv/bin/python bench/load_test.py --requests 500 --clients 4 --image images/photo-4.jpg
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, model: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "digitrec", "serve", "--host", "127.0.0.1", "--port", str(port), "--model", model]
    # NOTE: cwd outside the clone, where `-m digitrec` would find the notebook script digitrec.py instead.
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir(), env={**os.environ})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with status {proc.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).raise_for_status()
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("server did not start within 60 s")


def run(url: str, image: bytes, name: str, requests: int, clients: int) -> tuple[list[float], int, float]:
    """Send `requests` uploads from `clients` threads; returns latencies (s), error count, wall time (s)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        nonlocal errors
        with httpx.Client(timeout=60) as c:
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                t = time.perf_counter()
                try:
                    ok = c.post(url, files={"file": (name, image, "image/png")}).status_code == 200
                except httpx.HTTPError:
                    ok = False
                dt = time.perf_counter() - t
                with lock:
                    latencies.append(dt)
                    errors += not ok

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--image", type=Path, default=ROOT / "images" / "mnist-7.png")
    parser.add_argument("--model", default="seed")
    args = parser.parse_args()

    port = free_port()
    server = start_server(port, args.model)
    try:
        url = f"http://127.0.0.1:{port}/api/predict"
        image = args.image.read_bytes()
        run(url, image, args.image.name, min(50, args.requests), args.clients)  # warm-up, not counted
        latencies, errors, wall = run(url, image, args.image.name, args.requests, args.clients)
    finally:
        server.terminate()
        server.wait(10)
    ms = np.array(latencies) * 1000
    print(
        f"POST /api/predict  {args.image.name}  model {args.model}  {args.requests} requests, {args.clients} clients, {os.cpu_count()} CPUs"
    )
    print(f"throughput {len(latencies) / wall:.1f} req/s   p50 {np.percentile(ms, 50):.1f} ms   p99 {np.percentile(ms, 99):.1f} ms   "
          f"max {ms.max():.1f} ms   errors {errors}")  # fmt: skip
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
