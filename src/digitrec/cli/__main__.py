"""`python -m digitrec.cli` runs the command, as the one-module cli.py did."""

from . import main

main()
