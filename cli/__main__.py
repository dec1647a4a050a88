"""`python -m cli` runs the `els` command line."""

from cli.main import main

main()
