"""What every command shares: the help texts of common options, errors as exit statuses, Ctrl+C, the inputs."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..errors import DigitrecError, exit_code

MODEL_HELP = "A shipped model name (seed, strong), a personal model's name (digitrec teach) or a model file path (STEM, STEM.json or STEM.onnx). Default: the shipped default model."
LINE_MODEL_HELP = (
    "The line model that reads (read reads each line whole with a line model, not the single-digit seed/strong): "
    "a shipped line model name (line; `digitrec models` lists it) or a model file path. Default: the shipped line."
)
REJECT_HELP = (
    "When to answer 'not a digit' rather than a digit: normal (the default: refuses pictures unlike any digit while "
    "keeping 99% of real, imperfect digits), strict (also refuses digits read with low confidence: fewer errors, more "
    "refusals), off (always answer the best guess, several characters too; a blank picture still has none)."
)
DATA_HELP = (
    "Directory holding the MNIST IDX .gz files and SHA256SUMS (default: $DIGITREC_DATA, else the copy in the package)."
)


class Failure(click.ClickException):
    """A DigitrecError on its way out: one line on stderr and the exit status of its kind (errors.EXIT_CODES)."""

    def __init__(self, error: DigitrecError) -> None:
        super().__init__(str(error))
        self.exit_code = exit_code(error)


class DigitrecGroup(click.Group):
    """The one place where errors become exit statuses: DigitrecError by kind, Ctrl+C 130; never a traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["digitrec.argv"] = list(args)  # to print the --resume command after Ctrl+C
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DigitrecError as e:
            raise Failure(e) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(130) from None


def reject_option(help: str):  # noqa: A002 - click's own keyword
    """`--reject strict|normal|off` (default normal), as predict and read take it."""
    return click.option(
        "--reject", type=click.Choice(["strict", "normal", "off"]), default="normal", show_default=True, help=help
    )


def workers_option(help: str):  # noqa: A002
    """`--workers N` (at least 1; default None: the command decides)."""
    return click.option("--workers", type=click.IntRange(1), default=None, help=help)


def show_preprocessed_option(help: str):  # noqa: A002
    """`--show-preprocessed DIRECTORY`: where to write what the network saw."""
    return click.option("--show-preprocessed", type=click.Path(file_okay=False), default=None, help=help)


def interrupted(message: str) -> click.exceptions.Exit:
    """Say what an interrupted command left behind; the caller raises the result (exit status 130)."""
    click.echo(f"interrupted: {message}", err=True)
    return click.exceptions.Exit(130)


def resume_command() -> str:
    """The command line that continues this run: the same arguments, --force dropped, --resume added."""
    import shlex

    args = [a for a in click.get_current_context().meta.get("digitrec.argv", []) if a != "--force"]
    return shlex.join(["digitrec", *args, *([] if "--resume" in args else ["--resume"])])


def find_targets(paths: tuple[str, ...]) -> tuple[list[str], int]:
    """The inputs to read and how many were empty folders (each reported as an error).

    No argument means ./images, as in the notebook; a bare file name that is not
    here is looked up in images/; `-` stays `-` (one image read from stdin).
    """
    from ..io.decode import has_images

    if not paths:
        if not Path("images").is_dir():
            raise click.UsageError(
                "no images given, and there is no ./images folder here (the notebook's default); "
                "name image files or folders, e.g. `digitrec predict photo.jpg scans/`, or - for stdin"
            )
        paths = ("images",)
    targets, empty = [], 0
    for p in paths:
        p = p if p == "-" else _find_image(p)
        if os.path.isdir(p) and not has_images(p):
            click.echo(f"error: no images found in {p}", err=True)
            empty += 1
            continue
        targets.append(p)
    return targets, empty


def stdin_bytes() -> bytes:
    return click.get_binary_stream("stdin").read()


def _find_image(path: str) -> str:
    """The notebook's rule: a bare name that is not here is looked up in images/."""
    p = Path(path)
    if not p.exists() and len(p.parts) == 1 and (Path("images") / p).exists():
        return str(Path("images") / p)
    return path
