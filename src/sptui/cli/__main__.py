"""`python -m sptui.cli`: the `sptui` command (textual-serve starts each session's desk so)."""
from sptui.cli import main

main()
