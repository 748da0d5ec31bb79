"""The README's code cannot drift: its Python blocks run, and every `digitrec` line of its shell blocks succeeds."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, re.S)
SLOW = ("train", "serve")  # a commented command that trains or serves is covered by its own tests


def commands() -> list[str]:
    lines = [line.split("#")[0].strip() for lang, body in BLOCKS if lang == "bash" for line in body.splitlines()]
    return [c for c in lines if c.startswith("digitrec ") and c.split()[1] not in SLOW]


def test_readme_is_short_and_links_resolve():
    assert len(README.splitlines()) <= 150
    for link in re.findall(r"\]\(((?:docs|notebooks)/[^)#]+)\)", README):
        assert (ROOT / link).is_file(), link


def test_readme_python_blocks_run():
    for lang, body in BLOCKS:
        if lang == "python":
            out = subprocess.run([sys.executable, "-c", body], cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("command", commands())
def test_readme_commands_succeed(command):
    args = shlex.split(command)[1:]
    out = subprocess.run(
        [sys.executable, "-m", "digitrec", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    if args[:2] == ["read", "images/multi-2026.png"]:
        assert out.stdout.strip().endswith("2026")
    if args[:2] == ["predict", "images/multi-2026.png"]:
        assert "several characters (4)" in out.stdout
