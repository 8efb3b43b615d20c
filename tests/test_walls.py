"""The walls of docs/architecture.md, checked from the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _importers(package: str, pattern: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if re.search(rf"^\s*(from|import) ({pattern})\b", path.read_text(), re.M):
            found.append(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("package, forbidden", [
    ("device_models", "labctl|procedures|sim_backend"),
    ("procedures", "pyvisa|sim_backend|labctl\\.instruments|labctl\\.hardware"),
    ("labctl/training", "sim_backend"),
    ("labctl/sparse", "sim_backend"),
    ("labctl/catalog", "procedures"),
])
def test_package_imports_nothing_beyond_its_wall(package, forbidden):
    assert _importers(package, forbidden) == []


def test_backend_module_imports_no_instrument_library():
    assert not re.search(r"^\s*(from|import) (pymeasure|pyvisa)\b", (ROOT / "labctl/backend.py").read_text(), re.M)


def test_one_labctl_module_imports_the_simulator():
    assert _importers("labctl", "sim_backend") == ["labctl/backends.py"]


def test_no_numba_in_the_simulator():
    """Compiled physics lives in device_models beside its reference formulas; sim_backend only calls it."""
    assert _importers("sim_backend", "numba") == []
    assert not any("compiled.kernel" in p.read_text() for p in (ROOT / "sim_backend").rglob("*.py"))


def test_no_backend_probing_anywhere_and_no_attribute_probing_in_training():
    """What a backend can do is the Protocol: probing for more takes a path the other backends never take."""
    probing = re.compile(r"(hasattr|getattr)\(\s*[\w.]*backend\b|\.backend\.__dict__")
    offenders = [str(p.relative_to(ROOT)) for package in ("labctl", "procedures")
                 for p in (ROOT / package).rglob("*.py") if probing.search(p.read_text())
                 and p != ROOT / "labctl/backend.py"]  # BackendProxy forwards what is not the seam
    offenders += [str(p.relative_to(ROOT)) for package in ("labctl/training", "labctl/sparse")
                  for p in (ROOT / package).rglob("*.py") if "hasattr(" in p.read_text()]
    assert offenders == []
