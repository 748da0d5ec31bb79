"""Fuzz the image readers: mutated files through `prepare` and `read_digits`, in a worker process.

    .venv/bin/python bench/fuzz.py                    # 20,000 mutated files
    .venv/bin/python bench/fuzz.py --n 3000 --keep /tmp/fuzz-found
    .venv/bin/python bench/fuzz.py --only 1234        # re-run one case (the numbers are reproducible)

Seeds are small valid files of an MNIST test digit in PNG (gray, RGBA, palette,
16-bit), JPEG (with an EXIF rotation), GIF, TIFF (gray, 16-bit, float, CMYK, CIELAB),
WebP and BMP, plus 1-pixel-wide strips and a 1x1 picture. Case i takes a seed
and 1-4 mutations (flipped, set, inserted or deleted bytes, a cut end, a
repeated chunk; half of them within the first 64 bytes, where the headers
are), all from a generator seeded with (--seed, i).

A worker process reads each case with `digitrec.image.preprocess.prepare` and then
`digitrec.read.strings.read_digits` (the shipped seed model). Reported:

    crashes   an exception that is not a digitrec.errors.DigitrecError
    timeouts  prepare or read_digits took over --limit seconds (1 s), and still
              did at the best of three re-runs (a busy machine slows single
              runs); a worker stuck past --kill seconds is killed and
              restarted (a hang)
    peak RSS  the worker's largest resident set (ru_maxrss), and its RSS after
              the first 200 cases and at the end, to show memory stays bounded

Case numbers that crash or time out are listed, and with --keep their bytes
are saved there. Exit status 1 when anything crashed, timed out or hung.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import os
import resource
import sys
import time
import traceback
from collections import Counter
from functools import partial
from pathlib import Path

import numpy as np
from generalize import cpu_model

HEADER = 64  # half of the mutations land in the first bytes, where sizes, modes and offsets are


# ---------------------------------------------------------------- inputs


def seed_files() -> dict[str, bytes]:
    """{name: encoded file}: small valid images of one MNIST digit (dark on light) in many formats and modes."""
    from PIL import Image

    from digitrec.io.mnist import load_split

    digit = 255 - load_split("test").images[0]
    gray = Image.fromarray(digit).resize((56, 56))
    wide = np.full((1, 400), 255, np.uint8)
    wide[0, 150:250] = 0
    exif = Image.Exif()
    exif[0x0112] = 6  # EXIF orientation: rotate 90 degrees

    def enc(img: Image.Image, fmt: str, **kw) -> bytes:
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        return buf.getvalue()

    return {
        "png-L": enc(gray, "PNG"),
        "png-RGBA": enc(gray.convert("RGBA"), "PNG"),
        "png-P": enc(gray.convert("P"), "PNG"),
        "png-I16": enc(Image.fromarray(digit.astype(np.uint16) * 257), "PNG"),
        "png-1x1": enc(Image.new("L", (1, 1), 0), "PNG"),
        "png-1xW": enc(Image.fromarray(wide), "PNG"),
        "png-Hx1": enc(Image.fromarray(wide.T.copy()), "PNG"),
        "jpeg-exif": enc(gray.convert("RGB"), "JPEG", quality=85, exif=exif.tobytes()),
        "gif": enc(gray.convert("P"), "GIF"),
        "tiff-L": enc(gray, "TIFF"),
        "tiff-I16": enc(Image.fromarray(digit.astype(np.uint16) * 257), "TIFF"),
        "tiff-F": enc(Image.fromarray(digit.astype(np.float32) / 255), "TIFF"),
        "tiff-CMYK": enc(gray.convert("CMYK"), "TIFF"),
        "tiff-LAB": enc(
            Image.merge("LAB", (gray, Image.new("L", gray.size, 128), Image.new("L", gray.size, 128))), "TIFF"
        ),
        "webp": enc(gray.convert("RGB"), "WEBP", quality=90),
        "bmp": enc(gray, "BMP"),
    }


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """`data` with 1-4 random byte-level edits."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        if not b:
            b = bytearray(rng.integers(0, 256, 8, dtype=np.uint8).tobytes())
        end = min(len(b), HEADER) if rng.random() < 0.5 else len(b)
        i = int(rng.integers(0, end))
        op = rng.random()
        if op < 0.35:
            b[i] ^= 1 << int(rng.integers(0, 8))  # flip a bit
        elif op < 0.55:
            b[i] = int(rng.choice([0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF]))  # a boundary value
        elif op < 0.7:
            b[i:i] = rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8).tobytes()
        elif op < 0.85:
            del b[i : i + int(rng.integers(1, 17))]
        elif op < 0.93:
            del b[i:]  # truncated
        else:
            j = int(rng.integers(0, len(b)))
            b[i:i] = b[j : j + int(rng.integers(1, 33))]  # a repeated chunk
    return bytes(b)


def case(seeds: dict[str, bytes], seed: int, i: int) -> tuple[str, bytes]:
    """Case `i`: (seed name, mutated bytes), the same for the same (seed, i)."""
    rng = np.random.default_rng([seed, i])
    names = sorted(seeds)
    name = names[int(rng.integers(0, len(names)))]
    return name, mutate(seeds[name], rng)


# ---------------------------------------------------------------- worker


def rss_mb() -> float:
    """This process's current resident set in MB (from /proc), 0 where unknown."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        return 0.0


def worker(conn, seed: int) -> None:
    """Read cases sent as ints; answer (i, outcome, prepare s, read s, message, rss MB, peak RSS MB) per case."""
    import warnings

    from digitrec import Recognizer
    from digitrec.errors import DigitrecError
    from digitrec.image.preprocess import prepare
    from digitrec.read.strings import read_digits

    warnings.simplefilter("ignore")  # Pillow warns about corrupt EXIF and TIFF tags; those are expected here
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # NOTE: so does libtiff, straight to fd 2; results come by pipe
    recognizer = Recognizer.load("seed", threads=1)
    reader = recognizer.line_reader()
    seeds = seed_files()
    conn.send("ready")
    while (i := conn.recv()) is not None:
        _, data = case(seeds, seed, i)
        times, outcome, message = [0.0, 0.0], "ok", ""
        for k, (step, extra) in enumerate(((prepare, {}), (partial(read_digits, recognizer), {"reader": reader}))):
            start = time.perf_counter()
            try:
                step(data, **extra)
            except DigitrecError:
                outcome = "ours" if outcome == "ok" else outcome
            except Exception as e:  # noqa: BLE001 - the point: anything else is a crash
                outcome = "crash"
                message = f"{'prepare' if k == 0 else 'read_digits'}: {type(e).__name__}: {e}".splitlines()[0][:200]
                message += " | " + traceback.format_exc().strip().splitlines()[-3].strip()[:200]
            times[k] = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
        conn.send((i, outcome, times[0], times[1], message, rss_mb(), peak))


class Worker:
    """A worker process and its pipe, restarted after a hang."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.start()

    def start(self) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker, args=(child, self.seed), daemon=True)
        self.proc.start()
        if not self.conn.poll(120) or self.conn.recv() != "ready":
            raise SystemExit("fuzz worker did not start")

    def run(self, i: int, kill_after: float):
        """The worker's answer for case i, or None when it hung (it is then killed and restarted)."""
        self.conn.send(i)
        if self.conn.poll(kill_after):
            try:
                return self.conn.recv()
            except EOFError:
                pass  # the worker died (e.g. a segfault in a decoder): counted as a hang and restarted
        self.proc.kill()
        self.proc.join()
        self.start()
        return None

    def close(self) -> None:
        self.conn.send(None)
        self.proc.join(10)


# ---------------------------------------------------------------- main


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=20_000, help="number of mutated files (default 20,000)")
    p.add_argument("--seed", type=int, default=0, help="mutation seed (default 0)")
    p.add_argument("--limit", type=float, default=1.0, help="seconds per step before a case counts as a timeout")
    p.add_argument("--kill", type=float, default=20.0, help="seconds before a stuck worker is killed (a hang)")
    p.add_argument("--only", type=int, nargs="*", help="run just these case numbers")
    p.add_argument("--keep", type=Path, help="save crashing and slow cases' bytes in this folder")
    args = p.parse_args()

    cases = args.only if args.only else range(args.n)
    print(f"fuzz: {len(cases):,} cases, seed {args.seed}; {cpu_model()}, {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    seeds = seed_files()
    w = Worker(args.seed)
    outcomes: Counter[str] = Counter()
    crashes: list[tuple[int, str]] = []
    slow: list[tuple[int, float, float]] = []
    hangs: list[int] = []
    worst = [0.0, 0.0]
    rss_early = rss_end = peak = 0.0
    start = time.perf_counter()
    for n, i in enumerate(cases, 1):
        got = w.run(i, args.kill)
        if got is None:
            hangs.append(i)
            _keep(args.keep, seeds, args.seed, i, "hang")
            continue
        _, outcome, t_prep, t_read, message, rss, peak = got
        outcomes[outcome] += 1
        worst = [max(worst[0], t_prep), max(worst[1], t_read)]
        rss_end = rss
        if n == min(200, len(cases)):
            rss_early = rss
        if outcome == "crash":
            crashes.append((i, message))
            _keep(args.keep, seeds, args.seed, i, "crash")
        if max(t_prep, t_read) > args.limit:
            slow.append((i, t_prep, t_read))
            _keep(args.keep, seeds, args.seed, i, "slow")
        if n % 1000 == 0:
            print(f"  {n:,} cases, {time.perf_counter() - start:.0f} s: {dict(outcomes)}, "
                  f"{len(slow)} slow, {len(hangs)} hung, RSS {rss:.0f} MB", flush=True)  # fmt: skip
    slow = _retime(w, slow, args.limit)
    w.close()
    rss = (rss_early, rss_end, peak)
    _report(len(cases), outcomes, crashes, slow, hangs, worst, rss, time.perf_counter() - start)
    return 1 if crashes or slow or hangs else 0


def _retime(w: Worker, slow: list[tuple[int, float, float]], limit: float) -> list[tuple[int, float, float]]:
    """The slow cases that stay over `limit` at their best of three more runs (a busy machine slows single runs)."""
    confirmed = []
    for i, _, _ in slow:
        runs = [got for _ in range(3) if (got := w.run(i, 60.0)) is not None]
        best = (min(r[2] for r in runs), min(r[3] for r in runs)) if runs else (float("inf"),) * 2
        print(f"  slow case {i} re-timed: best of 3 prepare {best[0]:.2f} s, read_digits {best[1]:.2f} s")
        if max(best) > limit:
            confirmed.append((i, *best))
    return confirmed


def _keep(folder: Path | None, seeds: dict[str, bytes], seed: int, i: int, why: str) -> None:
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        name, data = case(seeds, seed, i)
        (folder / f"{why}-{i:06d}-{name}.bin").write_bytes(data)


def _report(n, outcomes, crashes, slow, hangs, worst, rss, seconds) -> None:
    print(f"\n{n:,} cases in {seconds:.0f} s: {outcomes['ok']:,} read, {outcomes['ours']:,} refused with a digitrec "
          f"error, {len(crashes)} crashes, {len(slow)} timeouts (> limit at best of 3), {len(hangs)} hangs")  # fmt: skip
    print(f"slowest: prepare {worst[0]:.3f} s, read_digits {worst[1]:.3f} s")
    print(f"worker RSS: {rss[0]:.0f} MB after {min(n, 200)} cases, {rss[1]:.0f} MB at the end; peak {rss[2]:.0f} MB")
    for kinds in Counter(m.split(" | ")[0] for _, m in crashes).most_common():
        print(f"  crash x{kinds[1]}: {kinds[0]}")
    for i, m in crashes[:20]:
        print(f"  case {i}: {m}")
    for i, a, b in slow[:20]:
        print(f"  slow case {i}: prepare {a:.2f} s, read_digits {b:.2f} s")
    if hangs:
        print(f"  hung cases: {hangs[:20]}")


if __name__ == "__main__":
    sys.exit(main())
