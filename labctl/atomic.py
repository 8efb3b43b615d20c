"""Replace a file in one step, so a crash leaves the old file or the new one, never half of one.

Run data, journals, checkpoints, crash markers and catalog sidecars are all rewritten this way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TMP_SUFFIX = ".tmp"
"""Suffix of the temporary file beside the target (folder scans skip it)."""


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write; when the block ends without error it replaces ``path``."""
    path = Path(path)
    tmp = path.with_name(path.name + TMP_SUFFIX)
    yield tmp
    os.replace(tmp, path)
