"""``python -m monitor`` runs the wtm command line."""

from monitor.cli import main

main()
