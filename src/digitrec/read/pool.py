"""The package's one worker pool: a function over a stream of items, in order, in worker processes.

`Recognizer.predict_paths` decodes images with it, `bulk.read_rows` reads
whole files with it. Memory stays bounded whatever the number of items: at
most two windows of items are in flight.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# NOTE: these run thread pools and atfork handlers that can hang a child made by fork().
_FORK_RISKS = ("pyarrow", "ray", "torch")


def ignore_interrupts() -> None:
    """Pool initializer: Ctrl+C is the parent's to handle, and the pool's SIGTERM simply ends a worker.

    Without it every worker prints a KeyboardInterrupt traceback on Ctrl+C, and
    again when the pool terminates it (a forked worker inherits the parent's SIGTERM handler).
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start_method(workers_run_onnx: bool = False) -> str:
    """fork (instant workers) unless a library that can deadlock a forked child is loaded, then forkserver.

    `workers_run_onnx`: the workers build ONNX Runtime sessions of their own, so
    an ONNX Runtime already loaded here (its threads, its global state) is a risk too.
    """
    methods = multiprocessing.get_all_start_methods()
    risks = _FORK_RISKS + (("onnxruntime",) if workers_run_onnx else ())
    if "fork" in methods and not any(m in sys.modules for m in risks):
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


_INIT_ERROR: BaseException | None = None  # what this worker's initializer raised, if anything


def _init_worker(initializer: Callable[..., Any] | None, initargs: tuple) -> None:
    # NOTE: an initializer that raises would make multiprocessing start a new worker, which fails the same way,
    # for ever (a hang with a traceback per try). The error is kept instead, and every item re-raises it in
    # the parent through _guarded.
    global _INIT_ERROR
    ignore_interrupts()
    if initializer is not None:
        try:
            initializer(*initargs)
        except Exception as e:  # noqa: BLE001 - any failure ends the map in the parent, not here
            _INIT_ERROR = e


def _guarded(fn: Callable[[T], R], item: T) -> R:
    if _INIT_ERROR is not None:
        raise _INIT_ERROR
    return fn(item)


def ordered_map(
    fn: Callable[[T], R], items: Iterable[T], workers: int | None = None, window: int = 512, chunksize: int = 8,
    initializer: Callable[..., Any] | None = None, initargs: tuple = (), workers_run_onnx: bool = False,
) -> Iterator[R]:  # fmt: skip
    """`fn(item)` for every item, in order, computed by `workers` processes (default: all cores).

    `fn` and `initializer` must be module-level functions (or partials of them):
    under forkserver they are pickled by name. Each worker runs
    `initializer(*initargs)` once, e.g. to load a model; if it raises, the
    map raises that error here (it never hangs retrying workers).
    """
    workers = workers or os.cpu_count() or 1
    fn = functools.partial(_guarded, fn)
    it = iter(items)
    ctx = multiprocessing.get_context(start_method(workers_run_onnx))
    pool = ctx.Pool(workers, initializer=_init_worker, initargs=(initializer, initargs))
    try:
        chunk = list(islice(it, window))
        pending = pool.imap(fn, chunk, chunksize=chunksize) if chunk else None
        while pending is not None:
            # NOTE: queue the next window before consuming this one, so the workers compute
            # while this process uses the results; memory stays at two windows.
            chunk = list(islice(it, window))
            queued = pool.imap(fn, chunk, chunksize=chunksize) if chunk else None
            yield from pending
            pending = queued
    except Exception:
        # NOTE: an item's error (or the initializer's) ends the map. terminate() now could kill a worker while it
        # holds the results queue's lock, and the pool's own task thread then waits on that lock for ever
        # (CPython's Pool: a hang seen in the suite); the queued items fail or finish, and the workers leave.
        pool.close()
        pool.join()
        raise
    finally:
        pool.terminate()  # idle or gone workers by now, or Ctrl+C / an abandoned map: stop them at once


__all__ = ["ignore_interrupts", "ordered_map", "start_method"]
