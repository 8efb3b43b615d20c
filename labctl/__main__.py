"""``python -m labctl`` is the ``labctl`` command."""

from .cli import main

main()
