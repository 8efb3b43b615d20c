"""``labctl gui``: pymeasure windows for the bench procedures (Qt is imported with this package)."""

from .chooser import ChooserWindow
from .window import make_window

__all__ = ["ChooserWindow", "make_window"]
