"""`digitrec teach`: a personal model from a few of the user's own digits (teach/ does the work)."""

from __future__ import annotations

import json

import click

from ..errors import ConfigError
from .common import MODEL_HELP


@click.command()
@click.argument("samples", nargs=-1, type=click.Path())
@click.option("--name", default=None, help="Name of the personal model to write (letters, digits, - and _).")
@click.option("--base", default=None, help="Model to start from. " + MODEL_HELP)
@click.option("--force", is_flag=True, help="Replace a personal model of the same name (or an existing --sheet file).")
@click.option("--remove", "remove", default=None, metavar="NAME", help="Delete personal model NAME and stop.")
@click.option(
    "--sheet",
    "sheet_out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a printable teaching sheet (.png or .pdf) and stop.",
)
@click.option(
    "--show",
    "show_out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a picture of the boxes cut from sheet photos, with their labels.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def teach(
    samples: tuple[str, ...], name: str | None, base: str | None, force: bool, remove: str | None,
    sheet_out: str | None, show_out: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Teach a model your handwriting: write a personal model from a few of your own digits (seconds, no torch).

    \b
    SAMPLES: folders with sub-folders 0..9 (or files named like 3_anything.png),
    or photos of a filled teaching sheet. Five or more of each digit work best.
      digitrec teach my-digits/ --name mine          then: digitrec predict --model mine x.png
      digitrec teach --sheet sheet.pdf               print it, fill it in, photograph it:
      digitrec teach photo.jpg --name mine --show boxes.png
      digitrec teach --remove mine
    Before/after accuracy on your samples is by cross-validation (never on a sample it learned).
    """
    from ..teach.learn import collect, report_lines
    from ..teach.learn import teach as run_teach

    if remove:
        from ..teach.personal import remove_personal

        gone = remove_personal(remove)
        click.echo(json.dumps({"removed": remove, "files": [str(p) for p in gone]}) if as_json else f"removed {remove}")
        return
    if sheet_out:
        from ..teach.sheet import write_sheet

        click.echo(f"wrote {write_sheet(sheet_out, force)}: print it, write one digit per box, photograph it")
        return
    if not samples or not name:
        raise ConfigError(
            "teach needs SAMPLES and --name NAME (or --sheet OUT, or --remove NAME); see digitrec teach --help"
        )
    found = collect(list(samples))
    if show_out and found.boxes:
        from ..teach.sheet import show_boxes

        click.echo(
            f"wrote {show_boxes(found.boxes, show_out)}: the boxes cut from the sheet, with their labels", err=True
        )
    report = run_teach(found, name, base, force, note=lambda m: click.echo(m, err=True))
    click.echo(json.dumps(report.as_dict()) if as_json else "\n".join(report_lines(report)))
