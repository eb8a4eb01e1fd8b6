"""`python -m heartkeep` runs the CLI."""

from heartkeep.cli import main

main()
