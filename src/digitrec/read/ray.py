"""The bulk pipeline on Ray: read files, preprocess in tasks, recognize in actors (the `cluster` extra).

    read_binary_files(paths | URI)          Ray Data tasks read the bytes (local, NFS, s3://, gs://, ...)
      -> map_batches(_prepare_batch)        decode + preprocess with digitrec's own decoder, in tasks
      -> map_batches(_Predictor, concurrency=N)   N actors, each loads the ONNX model once (threads = its CPUs)
      -> iter_batches() on the driver       rows written by digitrec.read.bulk's writers (resume, Parquet parts)

A file that fails to decode becomes a row with `error`, never an exception, so
it cannot stop the job. Rows come back in whatever order blocks finish, not in
walk order. `digitrec read` runs decode and `read_digits` inside the actors:
each finds the lines of ink in a file and reads each line whole with the line
model (no per-digit crops), loaded once per actor.

Without `address` a local Ray instance is started (what the tests use);
`address="auto"` or `ray://HOST:10001` joins a cluster, and `ray job submit -- digitrec predict ...`
runs the driver on the cluster head.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..errors import BadImage, MissingExtra, cannot_read
from ..image.preprocess import prepare
from ..io.decode import IMAGE_SUFFIXES
from ..io.writers import error_row
from .bulk import Discovery, Rows, discover, read_row

PREPARE_BATCH = 64  # files per decode task batch
INFER_BATCH = 256  # images per inference call in an actor
DECODE_MEMORY = 256 * 2**20  # bytes reserved per decode task


def _ray(purpose: str = "--engine ray"):
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise MissingExtra("ray", "cluster", purpose) from None
    return ray


def _prepare_batch(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Ray task: {"path", "bytes"} -> {"path", "image" (n, 28, 28) float32, "blank", "error" ("" if none)}."""
    paths = [str(p) for p in batch["path"]]
    images = np.zeros((len(paths), 28, 28), np.float32)
    blank = np.zeros(len(paths), bool)
    errors = []
    for i, (path, data) in enumerate(zip(paths, batch["bytes"])):
        try:
            prep = prepare(bytes(data), name=path)
            images[i], blank[i] = prep.image, prep.blank
            errors.append("")
        except BadImage as e:
            errors.append(str(e))
        except Exception as e:  # noqa: BLE001 - a hostile file must not stop the job
            errors.append(cannot_read(path, e))
    return {"path": np.array(paths, object), "image": images, "blank": blank, "error": np.array(errors, object)}


class _Predictor:
    """Ray actor: loads the model once, turns prepared batches into rows (JSON strings, as `Prediction.as_dict`)."""

    def __init__(self, model: str | None, threads: int = 1) -> None:
        from .digits import Recognizer

        self.recognizer = Recognizer.load(model, threads=threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from ..image.preprocess import Prepared

        items = [
            (str(path), None, str(err)) if err else (str(path), Prepared(image, bool(blank)), None)
            for path, image, blank, err in zip(batch["path"], batch["image"], batch["blank"], batch["error"])
        ]
        # NOTE: the same batching code as Recognizer.predict_paths, so both engines give identical rows.
        rows = [json.dumps(p.as_dict()) for p in self.recognizer.predict_items(items)]
        return {"row": np.array(rows, object)}


class _Reader:
    """Ray actor for `digitrec read`: decode and segment each file with the models loaded once (`model`: the line model)."""

    def __init__(self, model: str | None, threads: int = 1) -> None:
        from .digits import Recognizer

        self.recognizer = Recognizer.load(None, threads=threads, line_model=model)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = [json.dumps(read_row(self.recognizer, str(p), bytes(d))) for p, d in zip(batch["path"], batch["bytes"])]
        return {"row": np.array(rows, object)}


def ray_rows(
    model: str | None, targets: list[str], kind: str = "predict", skip: set[str] | None = None,
    address: str | None = None, actors: int | None = None, num_cpus: int | None = None,
) -> Rows:  # fmt: skip
    """Rows for every image under `targets` (local paths or URIs Ray Data reads), computed on Ray.

    Local paths are discovered here (the list of paths is held in memory, ~100
    bytes a file) so that `skip` (resume) and missing files are handled before
    any byte is read; a URI is listed by Ray Data itself. `actors` recognizer
    actors run (default: one per 32 CPUs of the cluster, at least 1).
    """
    local = discover([t for t in targets if "://" not in t], skip)
    uris = [t for t in targets if "://" in t]
    return Rows(_ray_rows(model, local, uris, kind, skip, address, actors, num_cpus), local)


def _ray_rows(
    model: str | None, discovery: Discovery, uris: list[str], kind: str, skip: set[str] | None,
    address: str | None, actors: int | None, num_cpus: int | None,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # NOTE: keeps the C++ core's warnings off our stderr
    ray = _ray()
    started = False
    if not ray.is_initialized():
        ray.init(
            address=address, num_cpus=num_cpus if address is None else None, include_dashboard=False,
            log_to_driver=False, logging_level=logging.WARNING, configure_logging=True,
        )  # fmt: skip
        started = True
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    try:
        local = list(discovery)
        pending = set(local)
        extensions = [s.lstrip(".") for s in IMAGE_SUFFIXES]
        parts = []
        if local:
            parts.append(ray.data.read_binary_files(local, include_paths=True, ignore_missing_paths=True))
        if uris:
            ds = ray.data.read_binary_files(uris, include_paths=True, file_extensions=extensions)
            if skip:
                ds = ds.filter(lambda r: r["path"] not in skip)
            parts.append(ds)
        if parts:
            ds = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
            cpus = int(ray.cluster_resources().get("CPU", 1))
            # NOTE: inference costs ~2% of decoding (bench/bulk.py), so one actor keeps up with ~32 decoding cores.
            actors = actors or max(1, round(cpus / 32))
            if kind == "predict":
                # NOTE: the memory reservation (a large photo decodes to ~100 MB) also stops Ray from fusing
                # decoding into the actors, which would leave decoding only as parallel as the actor pool.
                ds = ds.map_batches(
                    _prepare_batch, batch_size=PREPARE_BATCH, batch_format="numpy", num_cpus=1, memory=DECODE_MEMORY
                )
                ds = ds.map_batches(
                    _Predictor, fn_constructor_kwargs={"model": model}, batch_size=INFER_BATCH,
                    batch_format="numpy", concurrency=actors, num_cpus=1,
                )  # fmt: skip
            else:
                ds = ds.map_batches(
                    _Reader, fn_constructor_kwargs={"model": model}, batch_size=PREPARE_BATCH,
                    batch_format="numpy", concurrency=actors, num_cpus=1,
                )  # fmt: skip
            for batch in ds.iter_batches(batch_size=INFER_BATCH, batch_format="numpy"):
                for text in batch["row"]:
                    row = json.loads(text)
                    pending.discard(row["path"])
                    yield row
        # NOTE: Ray drops files that vanish between discovery and reading; they still get their error row.
        for path in sorted(pending):
            yield error_row(kind, path, f"{path}: no such file")
    finally:
        if started:
            ray.shutdown()


__all__ = ["ray_rows"]
