"""Examples must run: the README's Python blocks and the doctests in the packages' docstrings."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("labctl", "device_models", "sim_backend", "procedures")
SKIP = re.compile(r"\.(gui|commands|__main__)(\.|$)")  # Qt windows and CLI entry points: no doctests


def _modules():
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        yield package
        for info in pkgutil.walk_packages(pkg.__path__, f"{package}."):
            if not SKIP.search(info.name):
                yield info.name


@pytest.mark.parametrize("name", sorted(_modules()))
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
