"""Recognizer: read digits with ONNX Runtime (no torch), one image or a stream of millions.

>>> from digitrec import Recognizer
>>> rec = Recognizer.load()                 # the shipped default model
>>> rec.predict("images/mnist-7.png").digit
7
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BadImage, ModelError, cannot_read
from ..image.preprocess import Prepared, prepare
from ..io.decode import ImageSource, iter_image_paths
from ..store import model_files, read_metadata, resolve
from .pool import ordered_map
from .session import default_threads, open_session
from .verdicts import DEFAULT_REJECT, REJECT_MODES, Rejection, Verdicts, softmax, verdicts


@dataclass
class Prediction:
    """What the model read in one image.

    `digit` is None when the image failed to load (`error`) or holds no digit
    (`reason`: blank, or refused as not a digit). `confidence` is the
    probability of `digit`, so None whenever `digit` is None (as in `as_dict`);
    a refused image's best guess is `best_digit` and its probability.
    `probabilities` are the 10 class probabilities (calibrated with the
    model's temperature); None for an error or a blank image. `image` is the
    (28, 28) float32 input the network saw.
    """

    path: str | None
    digit: int | None
    confidence: float | None
    probabilities: list[float] | None
    reason: str | None = None
    error: str | None = None
    image: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def scored(self) -> bool:
        """True when the network gave this image probabilities (not an error, not blank)."""
        return self.error is None and self.probabilities is not None and any(self.probabilities)

    @property
    def best_digit(self) -> int | None:
        """The most likely digit, also for a refused image (None for errors and blank images)."""
        return int(np.argmax(self.probabilities)) if self.scored else None

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        """The k most likely digits with their probabilities, best first ([] for errors and blank images)."""
        if not self.scored:
            return []
        order = np.argsort(self.probabilities)[::-1][:k]
        return [(int(d), float(self.probabilities[d])) for d in order]

    def as_dict(self, top_k: int | None = None) -> dict[str, Any]:
        """The JSON row: digit and confidence of an accepted digit; best_digit and best_probability of a
        refused one (digit and confidence null); confidence and probabilities null for errors and blanks."""
        scored = self.scored
        accepted = scored and self.digit is not None
        out: dict[str, Any] = {
            "path": self.path,
            "digit": self.digit,
            "confidence": round(float(self.confidence), 6) if accepted else None,
            "probabilities": [round(float(p), 6) for p in self.probabilities] if scored else None,
        }
        if scored and self.digit is None:
            best = self.best_digit
            out["best_digit"] = best
            out["best_probability"] = round(float(self.probabilities[best]), 6)
        if top_k and scored:
            out["top"] = [{"digit": d, "probability": round(p, 6)} for d, p in self.top(top_k)]
        if self.reason is not None:
            out["reason"] = self.reason
        if self.error is not None:
            out["error"] = self.error
        return out


def _prepare_one(path: str) -> tuple[str, Prepared | None, str | None]:
    # Runs in worker processes: decode + preprocess, errors returned as text, never raised across the pool.
    try:
        return path, prepare(path, fast_png=True), None
    except BadImage as e:
        return path, None, str(e)
    except Exception as e:  # noqa: BLE001 - a hostile file must not stop the batch
        return path, None, cannot_read(path, e)


def light_on_dark(images: np.ndarray) -> np.ndarray:
    """float32 (N, 28, 28) in [0, 1] -> the same, each mostly-light image (dark ink on paper) inverted.

    An MNIST digit covers about a fifth of its square, so the median pixel is
    background: above one half means light paper.
    """
    light = np.median(images.reshape(len(images), -1), axis=1) > 0.5
    return np.where(light[:, None, None], 1.0 - images, images).astype(np.float32)


def several_characters(count: int, digits: bool = True) -> str:
    """The reason `predict` gives for a picture of several characters side by side.

    `digits`: whether the line reader reads digits there (then `digitrec read` is the tool for it).
    """
    if digits:
        return f"several characters ({count}): use digitrec read"
    return f"several characters ({count}), not digits"


class Recognizer:
    """An ONNX Runtime session on a digitrec model plus its metadata. Holds no other state."""

    def __init__(
        self, onnx_path: str | Path, meta: dict[str, Any], threads: int | None = None, reject: str = DEFAULT_REJECT,
        line_model: str | Path | None = None,
    ) -> None:  # fmt: skip
        if reject not in REJECT_MODES:
            raise ModelError(f"reject mode {reject!r}: choose one of {', '.join(REJECT_MODES)}")

        self._threads = threads or default_threads()
        self.session = open_session(onnx_path, self._threads)
        self.meta = meta
        self.path = Path(onnx_path)
        self.temperature = float(meta.get("temperature", 1.0))
        self.rejection = Rejection.from_meta(meta)
        self.reject = reject
        self._layers_session = None  # the slower all-layers graph, opened on first use
        self._line_reader = None  # the line model for `read`, opened on first use
        self.line_model = line_model  # which one (None: the shipped "line")

    @classmethod
    def load(
        cls, model: str | Path | None = None, threads: int | None = None, reject: str = DEFAULT_REJECT,
        line_model: str | Path | None = None,
    ) -> Recognizer:  # fmt: skip
        """Load a shipped model by name ("seed", "strong"), a model path, or the default model (None).

        `reject` is the default rejection mode: "normal", "strict" or "off" (see `digitrec.read.verdicts`).
        `line_model` is the line model `read_digits` uses (a name such as "line" or a path; default the
        shipped one); it is opened on first use.
        """
        stem = resolve(model)
        meta = read_metadata(stem, need="onnx")
        if meta.get("kind", "digit") != "digit":
            raise ModelError(f"{stem}: a {meta.get('kind')} model, not a single-digit model")
        return cls(model_files(stem)["onnx"], meta, threads, reject, line_model)

    @property
    def name(self) -> str:
        return str(self.meta.get("name", self.path.stem))

    # ------------------------------------------------------------ arrays

    def logits(self, x: np.ndarray) -> np.ndarray:
        """float32 (N, 1, 28, 28) in [0, 1] -> logits float32 (N, 10)."""
        x = np.ascontiguousarray(x, np.float32)
        if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
            raise BadImage(f"input of shape {x.shape}: expected (N, 1, 28, 28)")
        return self.session.run(["logits"], {"image": x})[0]

    def classify(self, x: np.ndarray, reject: str | None = None) -> Verdicts:
        """float32 (N, 1, 28, 28) in [0, 1] -> `Verdicts`: calibrated probabilities, P(not a digit), digits, reasons.

        The one place where a batch becomes answers; `reject` overrides the
        recognizer's rejection mode ("strict", "normal" or "off").
        """
        return verdicts(self.logits(x), self.temperature, self.rejection, reject or self.reject)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """float32 (N, 1, 28, 28) in [0, 1] -> calibrated digit probabilities float32 (N, 10)."""
        return self.classify(x, "off").probabilities

    def layer_names(self) -> list[str]:
        """Names of the layers whose outputs `activations` returns, input to output."""
        return [o.name.removeprefix("layer.") for o in self._layers().get_outputs()[1:]] + ["logits"]

    def activations(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every layer's output for float32 (N, 1, 28, 28) input: {layer name: (N, ...) float32}.

        Keys follow the network from input to output ("conv1", "relu1", "pool1", ...,
        "logits"), plus "probabilities" (N, 10). Uses the model's `.layers.onnx` graph.
        """
        x = np.ascontiguousarray(x, np.float32)
        if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
            raise BadImage(f"input of shape {x.shape}: expected (N, 1, 28, 28)")
        session = self._layers()
        outputs = session.run(None, {"image": x})
        names = [o.name for o in session.get_outputs()]
        result = {n.removeprefix("layer."): a for n, a in zip(names[1:], outputs[1:])}
        result["logits"] = outputs[0]
        result["probabilities"] = softmax(outputs[0], self.temperature)  # all outputs, "not a digit" too
        return result

    def line_reader(self):
        """The line model (`digitrec.read.lines.LineReader`) that `read` uses, opened once per recognizer.

        `line_model` as given to `load` (default: the shipped "line").
        """
        if self._line_reader is None:
            from .lines import LineReader

            self._line_reader = LineReader.load(self.line_model, threads=self._threads)
        return self._line_reader

    def _layers(self):
        if self._layers_session is None:
            stem = self.path.with_suffix("")
            read_metadata(stem, need="layers")  # checks its digest
            self._layers_session = open_session(model_files(stem)["layers"], self._threads)
        return self._layers_session

    def predict_arrays(self, images: np.ndarray, batch: int = 1024) -> np.ndarray:
        """MNIST-form images -> probabilities (N, 10), in batches.

        `images`: uint8 (0-255) or float (0-1), shape (N, 28, 28) or (N, 1, 28, 28), each a centred digit
        as MNIST has them: light digit on a dark background. An image that is mostly light (dark ink on
        light paper) is inverted first. Any other picture: `predict`, which does the whole preprocessing.
        """
        images = np.asarray(images)
        if images.ndim == 4 and images.shape[1] == 1:
            images = images[:, 0]
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise BadImage(
                f"images of shape {images.shape}: expected (N, 28, 28) or (N, 1, 28, 28) MNIST-form digits; "
                "Recognizer.predict reads any other picture"
            )
        scale = 255.0 if images.dtype == np.uint8 else 1.0
        out = [
            self.probabilities(light_on_dark(images[i : i + batch].astype(np.float32) / scale)[:, None])
            for i in range(0, len(images), batch)
        ]
        return np.concatenate(out) if out else np.zeros((0, 10), np.float32)

    # ------------------------------------------------------------ images

    def predict_items(
        self, items: list[tuple[str | None, Prepared | None, str | None]], reject: str | None = None
    ) -> list[Prediction]:
        """Predictions for already prepared images, in order, classified in one batch.

        Each item is (path, prepared image, error): an item with an error becomes that error's Prediction, a
        blank image a blank's. `predict_paths` and the Ray actors share it, so both engines give the same rows.
        """
        ready = [i for i, (_, p, _) in enumerate(items) if p is not None and not p.blank]
        by_index, reasons = {}, {}
        reject = reject or self.reject
        if ready:
            v = self.classify(np.stack([items[i][1].image for i in ready])[:, None], reject)
            by_index = dict(zip(ready, v.probabilities))
            reasons = dict(zip(ready, v.reasons))
            if reject != "off":  # NOTE: "off" answers whatever is drawn, several characters too
                reasons.update({i: self._several(items[i][1]) for i in ready if items[i][1].parts > 1})
        results = []
        for i, (path, prep, error) in enumerate(items):
            if error is not None:
                results.append(Prediction(path, None, None, None, error=error))
            elif i not in by_index:
                reason = "blank: only ruled lines, nothing written" if prep.ruled else "blank: no ink found"
                results.append(Prediction(path, None, None, None, reason=reason, image=prep.image))
            else:
                p = by_index[i]
                d = int(p.argmax())
                reason = reasons[i]
                digit, confidence = (None, None) if reason else (d, float(p[d]))
                results.append(Prediction(path, digit, confidence, [float(v) for v in p], reason, image=prep.image))
        return results

    def _several(self, prepared: Prepared) -> str:
        """The reason for a picture of several characters: how many, and whether `digitrec read` reads digits there.

        The line reader (run only here, so single digits stay fast) reads the
        characters' band of ink as `read` reads a line, refusing letters and scribble alike. The count is the larger of its
        characters and the parts counted on the picture (`count_characters`):
        the first splits touching digits the second cannot, the second keeps
        characters the reader merges. A reading that finds no digit, or under
        half of the characters there (a word read as one digit), is not digits.
        """
        from .decoding import read_line

        count = prepared.parts
        if prepared.ink is None:
            return several_characters(count)
        try:
            decoded = read_line(self.line_reader(), prepared.ink, recognizer=self)
        except ModelError:  # NOTE: no usable line model: say what the picture shows, not what it says
            return several_characters(count)
        text = "" if decoded.reason else decoded.text or ""
        read = len(text)
        if not any(c.isdigit() for c in text) or 2 * read < count:
            return several_characters(count, digits=False)
        return several_characters(max(count, read))

    def predict(self, image: ImageSource, name: str | None = None, reject: str | None = None) -> Prediction:
        """Read one image (path, bytes, file object, Pillow image or array). Raises BadImage if unreadable.

        `reject` overrides the recognizer's rejection mode ("strict", "normal", "off").
        """
        path = name or (str(image) if isinstance(image, (str, os.PathLike)) else None)
        return self.predict_prepared(prepare(image, name), path, reject)

    def predict_prepared(self, prepared: Prepared, name: str | None = None, reject: str | None = None) -> Prediction:
        """Read an image already brought to MNIST form by `preprocess.prepare` (e.g. to also show it)."""
        return self.predict_items([(name, prepared, None)], reject)[0]

    def predict_paths(
        self, paths: Iterable[str | os.PathLike] | str | os.PathLike, workers: int | None = None, batch: int = 256
    ) -> Iterator[Prediction]:
        """Stream predictions for image files in order; unreadable files come back with `error` set.

        `paths`: one path or many; folders are walked recursively as by the CLI
        (`decode.iter_image_paths`: sorted, image suffixes only). Decoding and
        preprocessing run in `workers` processes (default: all cores) once
        there is more than one batch. Memory stays bounded: at most a few
        batches of paths are in flight whatever the number of files.
        """
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        it = iter_image_paths(os.fspath(p) for p in paths)
        first = list(islice(it, batch))
        if len(first) < batch:
            yield from self.predict_items([_prepare_one(p) for p in first])
            return
        workers = workers or os.cpu_count() or 1
        if workers <= 1:
            yield from self._serial(first, it, batch)
            return
        window = batch * workers * 2
        items = ordered_map(_prepare_one, chain(first, it), workers, window=window, chunksize=max(1, batch // 8))
        while chunk := list(islice(items, batch)):
            yield from self.predict_items(chunk)

    def _serial(self, first: list[str], rest: Iterator[str], batch: int) -> Iterator[Prediction]:
        chunk = first
        while chunk:
            yield from self.predict_items([_prepare_one(p) for p in chunk])
            chunk = list(islice(rest, batch))
