"""`python -m kb.cli`: the `kb` command without its console script."""

from kb.cli import main

main()
