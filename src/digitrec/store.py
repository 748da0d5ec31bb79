"""Model files on disk: safetensors weights + ONNX graph + JSON metadata, written atomically.

A digit model called `STEM` is four files side by side (a line model has no
layers graph, so three):

    STEM.json          metadata (architecture, normalisation, recipe, data checksums, metrics, file digests)
    STEM.safetensors   the torch weights (for further training or re-export)
    STEM.onnx          the same network as an ONNX graph (what inference runs on)
    STEM.layers.onnx   the graph that also outputs every layer (the web page's activations)

The JSON records the SHA-256 of the others, so loading refuses a set of
files that were mixed up or damaged. Nothing is ever unpickled.

Models live in two places: the shipped ones inside the package (read-only),
and the user's personal models (`digitrec teach`) in `personal_dir()`, under
the user's data directory: $DIGITREC_HOME when set, else platformdirs'
user data directory when platformdirs is installed, else
$XDG_DATA_HOME/digitrec (default ~/.local/share/digitrec).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ModelError, ModelNotFound
from .io.mnist import sha256_file

HOME_ENV = "DIGITREC_HOME"  # the user's digitrec directory (personal models, feature caches); tests point it at tmp
FORMAT = "digitrec-model"
FORMAT_VERSION = 1
SHIPPED_DIR = Path(__file__).parent / "weights"
SUFFIXES = (".json", ".onnx", ".safetensors")
LABELS = list(range(10))
INPUT_CONTRACT = {
    "shape": [1, 28, 28],
    "dtype": "float32",
    "layout": "NCHW",
    "scale": "pixel / 255, range [0, 1]",
    "polarity": "white digit on black background (MNIST)",
    "preprocessing": "gray, ink-bright, cropped, fit in 20x20 keeping aspect, centre of mass at the centre of 28x28",
}


LINE_INPUT_CONTRACT = {
    "shape": [1, 32, "W"],
    "dtype": "float32",
    "layout": "NCHW",
    "scale": "ink strength in [0, 1]",
    "polarity": "white ink on black background",
    "preprocessing": "one line of ink cut to its rows and columns, scaled to 24 rows (aspect kept; a flat line whose separate digits fill over 97% of its rows so that they fill 88%, as training lines' digits do; a line with no grey edges blurred by 0.7 px), centred in 32 rows, 8 columns of margin each side (digitrec.read.lines.normalize_line)",
}


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it over `path`.

    A crash leaves either the old file or the new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide shared models from other users
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def stem_of(path: str | Path) -> Path:
    """`models/x.onnx`, `models/x.json` and `models/x` all name the model `models/x`."""
    path = Path(path)
    if path.name.endswith(".layers.onnx"):
        return path.with_name(path.name[: -len(".layers.onnx")])
    return path.with_suffix("") if path.suffix in SUFFIXES else path


def model_files(stem: Path) -> dict[str, Path]:
    """The files of model `stem`: json, onnx, safetensors, and layers (the ONNX graph that also outputs every layer)."""
    files = {s.lstrip("."): stem.with_name(stem.name + s) for s in SUFFIXES}
    files["layers"] = stem.with_name(stem.name + ".layers.onnx")
    return files


def shipped_models(kind: str = "digit") -> list[str]:
    """Names of the models of `kind` that ship inside the package: "digit" ("seed", "strong") or "line"."""
    names = []
    for p in sorted(SHIPPED_DIR.glob("*.json")):
        if "." in p.stem:  # not STEM.ckpt.json
            continue
        try:
            found = json.loads(p.read_text()).get("kind", "digit")
        except (OSError, ValueError):
            found = "digit"  # a damaged file is listed, so loading it gives the precise error
        if found == kind:
            names.append(p.stem)
    return names


def model_rows() -> list[dict[str, Any]]:
    """What `digitrec models` lists: every shipped model, digit models first, then line models, then personal ones.

    Each row: name, kind ("digit", "line" or "personal"), default, architecture, parameters, command (how it was trained),
    and test_accuracy (digit models) or validation_exact_lines (line models: share of lines read exactly).
    """
    rows = []
    for kind in ("digit", "line"):
        for name in shipped_models(kind):
            meta = read_metadata(SHIPPED_DIR / name)
            row = {
                "name": name, "kind": kind, "default": kind == "digit" and name == default_model(),
                "architecture": meta["architecture"]["name"], "parameters": meta["architecture"]["parameters"],
                "command": meta["training"].get("command"),
            }  # fmt: skip
            metric = "test_accuracy" if kind == "digit" else "validation_exact_lines"
            row[metric] = meta["metrics"].get(metric)
            rows.append(row)
    for name in personal_models():
        meta = read_metadata(personal_dir() / name)
        rows.append({
            "name": name, "kind": "personal", "default": False, "architecture": meta["architecture"]["name"],
            "parameters": meta["architecture"]["parameters"], "command": meta["training"].get("command"),
            "test_accuracy": meta["metrics"].get("test_accuracy"), "personal": meta.get("personal"),
        })  # fmt: skip
    return rows


def user_home() -> Path:
    """The user's digitrec directory: $DIGITREC_HOME, else the platform's user data directory for "digitrec"."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    try:
        import platformdirs
    except ImportError:  # NOTE: platformdirs is not a dependency of the light install; this is its Linux answer
        base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
        return Path(base) / "digitrec"
    return Path(platformdirs.user_data_dir("digitrec", appauthor=False))


def personal_dir() -> Path:
    """Where personal models (`digitrec teach`) are kept: user_home()/models."""
    return user_home() / "models"


def personal_models() -> list[str]:
    """Names of the user's personal models, sorted."""
    folder = personal_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if "." not in p.stem and not p.name.startswith("."))


def default_model() -> str:
    """The model used when none is named: "strong" when shipped, else "seed"."""
    names = shipped_models()
    return "strong" if "strong" in names else "seed"


def resolve(model: str | Path | None) -> Path:
    """Turn a shipped model name or a file path into the stem of an existing model."""
    if model is None:
        model = default_model()
    if isinstance(model, str) and model in shipped_models() + shipped_models("line"):
        return SHIPPED_DIR / model
    stem = stem_of(model)
    if not model_files(stem)["json"].is_file() and isinstance(model, str) and model in personal_models():
        return personal_dir() / model
    if not model_files(stem)["json"].is_file():
        known = ", ".join(shipped_models() + shipped_models("line")) or "none"
        mine = f"; personal models: {', '.join(personal_models())}" if personal_models() else ""
        raise ModelNotFound(
            f"{model}: no such model (expected {model_files(stem)['json']}; shipped models: {known}{mine})"
        )
    return stem


def check_writable(stem: Path, force: bool) -> None:
    """Refuse to replace an existing model unless `force` is set."""
    existing = [str(p) for p in model_files(stem).values() if p.exists()]
    if existing and not force:
        raise ModelError(f"{existing[0]} already exists; pass --force to overwrite it")


def write_metadata(stem: Path, meta: dict[str, Any]) -> None:
    """Record the digests of the weight files and write the JSON last, so it only ever describes complete files."""
    files = model_files(stem)
    meta = dict(meta, format=FORMAT, format_version=FORMAT_VERSION)
    meta["files"] = {
        kind: {"name": files[kind].name, "sha256": sha256_file(files[kind])}
        for kind in ("onnx", "layers", "safetensors")
        if files[kind].exists()
    }
    text = json.dumps(meta, indent=2, sort_keys=False) + "\n"
    atomic_write(files["json"], lambda tmp: tmp.write_text(text))


def read_metadata(stem: Path, need: str = "onnx") -> dict[str, Any]:
    """Read and check the metadata of model `stem`; `need` is the file kind the caller will open."""
    files = model_files(stem)
    try:
        meta = json.loads(files["json"].read_text())
    except FileNotFoundError:
        raise ModelNotFound(f"{files['json']}: model metadata not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelError(f"{files['json']}: not valid JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelError(f"{files['json']}: not a digitrec model file (format is not {FORMAT!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{files['json']}: format version {meta.get('format_version')} is not supported (expected {FORMAT_VERSION})"
        )
    contract = LINE_INPUT_CONTRACT if meta.get("kind") == "line" else INPUT_CONTRACT
    if meta.get("input", {}).get("shape") != contract["shape"]:
        raise ModelError(
            f"{files['json']}: input shape {meta.get('input', {}).get('shape')} is not {contract['shape']}"
        )
    entry = meta.get("files", {}).get(need)
    if entry is None:
        raise ModelError(f"{files['json']}: metadata lists no {need} file")
    if not files[need].is_file():
        raise ModelNotFound(f"{files[need]}: file missing (the metadata expects it)")
    if sha256_file(files[need]) != entry["sha256"]:
        raise ModelError(f"{files[need]}: SHA-256 does not match its metadata (damaged or from another model)")
    return meta
