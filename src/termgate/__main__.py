"""`python -m termgate` is the `termgate` command."""

from termgate.cli import main

main()
