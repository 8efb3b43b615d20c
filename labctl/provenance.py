"""Which code made a run: the git revision of the running checkout (CSV headers, run.json, catalog rows)."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


@functools.cache
def git_revision() -> str:
    """``git describe``-style revision of the code running ("unknown" outside a checkout)."""
    try:
        out = subprocess.run(["git", "-C", str(PACKAGE_DIR), "describe", "--always", "--dirty", "--abbrev=12"],
                             capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"
