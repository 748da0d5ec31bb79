"""The `digitrec` command: a thin layer over the Python API (parse, call, print).

Heavy modules (onnxruntime, torch, matplotlib) are imported inside the
command that needs them, so `digitrec --help` and `digitrec predict` start fast.

One module per command family: train (train, calibrate, export), models (models, evaluate),
predict, reading (read), teach, serve; bulk (--output and --engine ray runs of predict and
read), crops (--show-preprocessed) and common (help texts, errors as exit statuses, inputs).
"""

from __future__ import annotations

import click

from .. import __version__
from . import models, predict, reading, serve, teach, train
from .common import DigitrecGroup

EXIT_HELP = """\b
Exit status (every command):
  0    success
  1    some inputs failed (unreadable images, empty folders), or the run failed (--min-accuracy)
  2    usage or configuration error (bad option, unknown model, output exists, missing data or extra)
  130  interrupted (Ctrl+C); bulk runs and training say how to --resume
"""


@click.group(cls=DigitrecGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_HELP)
@click.version_option(__version__, prog_name="digitrec")
def cli() -> None:
    """Read handwritten digits with a CNN trained on MNIST.

    \b
    Quick start:
      digitrec predict                 read every image in ./images with the shipped model
      digitrec predict photo.jpg --json
      digitrec evaluate --model seed   scores on the 10,000 MNIST test digits
      digitrec train                   train the notebook's network (needs digitrec[train])
    """


for command in (
    train.train, train.calibrate, train.export, models.evaluate, models.list_models, predict.predict,
    teach.teach, serve.serve, reading.read,
):  # fmt: skip
    cli.add_command(command)


def main() -> None:
    cli(prog_name="digitrec")
