"""The sample outputs in README.md and docs/*.md are what the shipped models print today.

Every ```console block's `$ digitrec ...` command (and `$ make demo`, which runs
`digitrec predict images/`) whose inputs are the shipped sample images is run;
each output line shown under it must equal a line the command prints, in order,
digits and confidences to the printed precision (`...` stands for elided text).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from digitrec.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
DEMO = ["predict", "images/"]  # `make demo`, per the Makefile


def examples() -> list[tuple[str, list[str], list[str]]]:
    """(doc, command args, documented output lines) for each runnable sample command."""
    found = []
    for doc in DOCS:
        for block in BLOCK.findall(doc.read_text()):
            command, shown = None, []
            for line in [*block.splitlines(), "$"]:
                if line.startswith("$"):
                    if command and shown:
                        found.append((doc.name, command, shown))
                    command, shown = _command(line[1:].split("#")[0]), []
                elif command is not None and line.strip():
                    shown.append(line)
    return found


def _command(text: str) -> list[str] | None:
    words = shlex.split(text)
    if words == ["make", "demo"]:
        return DEMO
    if not words or words[0] != "digitrec":
        return None
    paths = [w for w in words[1:] if "/" in w or w.endswith((".png", ".jpg"))]
    if not paths or not all(p.startswith("images/") and (ROOT / p).exists() for p in paths):
        return None  # an illustration on the reader's own files: nothing here to run it on
    return words[1:]


def pattern(shown: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(part) for part in shown.split("...")))


def test_make_demo_runs_what_the_docs_say():
    assert re.search(r"^demo:.*\n(\t.*\n)*\t.*digitrec predict images/", (ROOT / "Makefile").read_text(), re.M)


def test_the_docs_show_samples_to_check():
    runnable = {(doc, " ".join(args)) for doc, args, _ in examples()}
    assert ("cli.md", "predict images/") in runnable
    assert ("how-it-works.md", "read images/multi-2026.png --json") in runnable


@pytest.mark.parametrize("doc,args,shown", examples(), ids=lambda v: v if isinstance(v, str) else None)
def test_documented_output_is_what_the_command_prints(monkeypatch, doc, args, shown):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    printed = result.stdout.splitlines()
    at = 0
    for line in shown:
        if line.strip() == "...":
            continue
        match = pattern(line)
        hits = [i for i in range(at, len(printed)) if match.fullmatch(printed[i])]
        assert hits, f"{doc}: `digitrec {' '.join(args)}` no longer prints\n{line}\nit prints:\n{result.stdout}"
        at = hits[0] + 1


def test_what_the_docs_say_of_a_blank_image_is_what_read_prints(tmp_path):
    from PIL import Image

    path = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(path)
    text = CliRunner().invoke(cli, ["read", str(path)])
    assert text.stdout == f"{path}\t-\tno digits found\n"
    row = CliRunner().invoke(cli, ["read", "--json", str(path)]).stdout
    assert '"digits": ""' in row and '"lines": []' in row
    doc = " ".join((ROOT / "docs" / "how-it-works.md").read_text().split())
    assert (
        'A blank image (no ink) prints `-` and `no digits found`; in JSON its `digits` is `""` and `lines` is `[]`'
        in doc
    )


def test_reject_off_on_read_is_described_as_it_behaves(tmp_path):
    from conftest import printed

    path = tmp_path / "hello.png"
    printed("hello").save(path)
    off = CliRunner().invoke(cli, ["read", "--reject", "off", str(path)]).stdout
    assert "\t-\tnot digits" in off  # the line model reads no digit in a word: even off has nothing to answer
    help_text = " ".join(CliRunner().invoke(cli, ["read", "--help"]).output.split())
    assert "off reads every line" not in help_text and "a line where it reads none still has no answer" in help_text
    assert "still has no answer" in (ROOT / "docs" / "cli.md").read_text()


def test_python_api_example_runs_as_written(monkeypatch):
    text = (ROOT / "docs" / "python-api.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(code, "python-api.md", "exec"), scope)  # noqa: S102 - the doc's own example
    assert scope["acts"]["conv1"].shape[0] == 8 and scope["probs"].shape == (10_000, 10)
