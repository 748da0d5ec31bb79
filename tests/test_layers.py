"""The package's wings keep their import rules: every module's imports are walked, lazy ones inside functions too.

io/     files in and out; knows no model (no read/, train/, teach/, onnxruntime, torch)
image/  pure image steps (io/ below it, nothing above)
read/   never torch, click, fastapi, synth/, train/ or teach/
synth/  never read/, train/ or teach/
torch   only in train/ (and errors.require_torch, which turns its absence into MissingExtra)
cli, server: nothing imports them (but the CLI's `serve` command starts the server, and __main__ the CLI)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "digitrec"
WINGS = ("io", "image", "read", "synth", "train", "teach")


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Absolute names of everything `path` imports (modules, or module.attribute for `from m import attribute`)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def wing(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in WINGS else None


def _reaches(names: set[str], prefix: str) -> bool:
    return any(n == prefix or n.startswith(prefix + ".") for n in names)


FORBIDDEN = {
    "io": (
        "digitrec.read",
        "digitrec.train",
        "digitrec.teach",
        "digitrec.synth",
        "digitrec.image",
        "onnxruntime",
        "torch",
    ),
    "image": ("digitrec.read", "digitrec.train", "digitrec.teach", "digitrec.synth", "onnxruntime", "torch"),
    "read": ("digitrec.synth", "digitrec.train", "digitrec.teach", "torch", "click", "fastapi", "uvicorn"),
    "synth": ("digitrec.read", "digitrec.train", "digitrec.teach", "torch", "click", "fastapi"),
    "teach": ("digitrec.train", "torch", "click", "fastapi"),
}


@pytest.mark.parametrize("path", modules(), ids=lambda p: module_name(p))
def test_each_module_keeps_its_wings_rules(path: Path):
    name, names = module_name(path), imported(path)
    for banned in FORBIDDEN.get(wing(name) or "", ()):
        assert not _reaches(names, banned), f"{name} ({wing(name)}/) imports {banned}"
    if wing(name) != "train" and name != "digitrec.errors":
        assert not _reaches(names, "torch"), f"{name} imports torch outside train/"
    if name not in ("digitrec.__main__", "digitrec.cli") and not name.startswith("digitrec.cli."):
        assert not _reaches(names, "digitrec.cli"), f"{name} imports the CLI"
    if not (name.startswith("digitrec.server") or name == "digitrec.cli" or name.startswith("digitrec.cli.")):
        assert not _reaches(names, "digitrec.server"), f"{name} imports the server"


def test_every_module_lives_in_a_wing_or_is_a_shared_root_module():
    roots = {module_name(p) for p in PACKAGE.glob("*.py")}
    assert roots <= {
        "digitrec",
        "digitrec.__main__",
        "digitrec.cli",
        "digitrec.errors",
        "digitrec.store",
        "digitrec.formats",
    }, f"flat modules outside the wings: {sorted(roots)}"
