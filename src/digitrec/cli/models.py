"""`digitrec models` and `evaluate`: the models there are and how well they read MNIST."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from .common import DATA_HELP, MODEL_HELP

if TYPE_CHECKING:
    from ..read.evaluate import Evaluation


@click.command()
@click.option("--model", default=None, help=MODEL_HELP)
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Also write confusion_matrix.png and misclassified.png into this directory.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (loss, accuracy, per_class, confusion_matrix)."
)
@click.option("--force", is_flag=True, help="Overwrite the files of an earlier --report in that directory.")
def evaluate(model: str | None, data_dir: str | None, report_dir: str | None, as_json: bool, force: bool) -> None:
    """Score a model on the 10,000 MNIST test digits.

    Prints loss, accuracy, per-class precision/recall/F1 and the confusion matrix.
    """
    from ..io.mnist import load_split
    from ..read.digits import Recognizer
    from ..read.evaluate import check_report_dir, score, write_report

    if force and not report_dir:
        raise click.UsageError("--force applies to --report only")
    if report_dir:
        check_report_dir(report_dir, force)  # before the work, not after
    rec = Recognizer.load(model)
    test = load_split("test", data_dir)
    probs = rec.predict_arrays(test.images)
    ev = score(probs, test.labels)
    report = write_report(ev, test.images, test.labels, probs, report_dir, rec.name, force=force) if report_dir else []
    if as_json:
        click.echo(json.dumps({"model": rec.name, **ev.as_dict(), "report": [str(p) for p in report]}))
        return
    _print_evaluation(rec.name, ev)
    for p in report:
        click.echo(f"wrote {p}")


def _print_evaluation(name: str, ev: Evaluation) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    errors = int(ev.confusion.sum() - ev.confusion.trace())
    console.print(f"model [bold]{name}[/] on MNIST test ({int(ev.confusion.sum()):,} digits)")
    # NOTE: `train` prints the network's raw cross-entropy; this is the calibrated one (logits / temperature,
    # digits only, through ONNX Runtime), so the two differ slightly for the same model.
    console.print(f"Test loss: {ev.loss:.4f} (calibrated probabilities: logits / temperature, 10 digits)")
    console.print(f"Test accuracy: {ev.accuracy:.4f}  ({errors} errors, calibration error {ev.ece:.4f})")
    per_class = Table(title="per class", title_justify="left")
    for col in ("digit", "precision", "recall", "F1", "support"):
        per_class.add_column(col, justify="right")
    for d in range(10):
        per_class.add_row(
            str(d), f"{ev.precision[d]:.4f}", f"{ev.recall[d]:.4f}", f"{ev.f1[d]:.4f}", str(ev.support[d])
        )
    console.print(per_class)
    cm = Table(title="confusion matrix (rows: true digit, columns: predicted)", title_justify="left")
    cm.add_column("true", justify="right", style="bold")
    for d in range(10):
        cm.add_column(str(d), justify="right")
    for i in range(10):
        cells = [
            f"[bold green]{v}[/]" if i == j else (f"[red]{v}[/]" if v else "[dim]·[/]")
            for j, v in enumerate(ev.confusion[i])
        ]
        cm.add_row(str(i), *cells)
    console.print(cm)


@click.command(name="models")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def list_models(as_json: bool) -> None:
    """List the models shipped inside the package: single-digit models (predict, serve; * the default) with
    their MNIST test accuracy, line models (read --model) with their share of validation lines read exactly,
    and your personal models (digitrec teach)."""
    from ..store import model_rows

    rows = model_rows()
    if as_json:
        click.echo(json.dumps(rows))
        return
    for r in rows:
        star = "*" if r["default"] else " "
        score = (
            f"test accuracy {r['test_accuracy']:.4f}"
            if r["kind"] in ("digit", "personal")
            else "line model (read --model)"
            + (f": {r['validation_exact_lines']:.1%} of validation lines exact" if r["validation_exact_lines"] else "")
        )
        if r.get("personal"):
            score += f"  personal, from {r['personal']['base']}"
        click.echo(f"{star} {r['name']:<8} {r['architecture']:<8} {r['parameters']:>9,} params  {score}")
