"""``labctl gui [PROCEDURE...]``: one window with a procedure chooser over pymeasure ManagedWindows.

The windows (:mod:`labctl.gui`) run the very Procedure classes ``labctl run`` uses. Qt is imported
only when the command runs (PySide6: ``pip install labctl[gui]``).
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from labctl.errors import ConfigError, field_error


def gui(
    procedures_: list[str] = typer.Argument(None, metavar="PROCEDURE",
                                            help="Procedures to offer (default: all); the first is shown."),
    out: Path = typer.Option(Path("runs"), "--out", help="Folder the runs are saved in."),
) -> None:
    """Open the bench GUI: one window, a procedure chooser on top."""
    os.environ.setdefault("QT_API", "pyside6")
    try:
        from pymeasure.display.Qt import QtWidgets
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise field_error(ConfigError, "gui", str(exc), "install the GUI extra: pip install 'labctl[gui]'") from None
    from procedures import NAMES, get_spec

    for name in procedures_ or ():
        get_spec(name)  # an unknown name is one clear line, before any window opens
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from labctl.gui import ChooserWindow

    window = ChooserWindow(procedures_ or list(NAMES), out)
    window.show()
    app.exec()


def register(app: typer.Typer) -> None:
    app.command("gui")(gui)
