"""`python -m els.cli` runs the `els` command line."""

from els.cli.main import main

main()
