"""Every example on the docs site and in the README runs, and the site builds with ``mkdocs build --strict``.

Each page's blocks run in document order in one temporary folder (so a later block may read what an
earlier one wrote, as a reader's session would), with ``docs/`` and ``labctl/`` linked in so
repository paths resolve as they do from the repository root:

- ```` ```python ```` blocks are executed;
- ```` ```yaml title="NAME" ```` blocks are written to NAME (the files the reader is told to write);
- ```` ```console ```` / ```` ```bash ```` lines run: ``labctl ...`` via ``python -m labctl``, ``cp ...``
  via the shell; ``make demo|test`` must be Makefile targets; ``source .venv/bin/activate`` is the
  documented environment step. Any other line fails the test: a documented command must run here.
- A block after ``<!-- needs-bench -->`` (real instruments) or ``<!-- needs-display -->`` (a GUI
  window) is not run; each of its ``--options`` must still be an option of that command.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"(<!-- (needs-\w+) -->\s*\n)?```(\w+)([^\n]*)\n(.*?)```", re.S)
EXTRA_ENV = {"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "COLUMNS": "200"}
ENV = {**os.environ, **EXTRA_ENV}
NOOP = ("source .venv/bin/activate",)


def blocks(path: Path):
    """(marker, language, info string, body) of each fenced block, in order."""
    for m in BLOCK.finditer(path.read_text()):
        yield m.group(2), m.group(3), m.group(4).strip(), m.group(5)


def commands(body: str) -> list[str]:
    return [line.strip() for line in body.splitlines() if line.strip() and not line.strip().startswith("#")]


def labctl(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    # os.environ now, not at import: it holds the test's own LABCTL_CATALOG (tests/conftest.py), so no
    # documented command records into the user's catalog
    return subprocess.run([sys.executable, "-m", "labctl", *args], cwd=cwd, env={**os.environ, **EXTRA_ENV},
                          capture_output=True,
                          text=True, timeout=120)


def check_options_exist(line: str, cwd: Path) -> None:
    args = shlex.split(line)[1:]
    words = [a for a in args[:2] if not a.startswith("-")]
    helptext = labctl([*words, "--help"], cwd).stdout
    for option in (a.split("=")[0] for a in args if a.startswith("--")):
        assert option in helptext, f"{line!r}: {option} is not an option of labctl {' '.join(words)}"


def run_line(line: str, cwd: Path) -> None:
    if line in NOOP:
        return
    if line.startswith("make "):
        target = line.split()[1]
        assert re.search(rf"^{re.escape(target)}:", (ROOT / "Makefile").read_text(), re.M), line
        return
    if line.startswith("cp "):
        subprocess.run(line, shell=True, cwd=cwd, check=True)
        return
    assert line.startswith("labctl "), f"documented command that the docs test cannot run: {line!r}"
    result = labctl(shlex.split(line)[1:], cwd)
    assert result.returncode == 0, f"{line!r} failed:\n{result.stdout}\n{result.stderr}"


def run_page(path: Path, tmp: Path) -> int:
    for name in ("docs", "labctl"):
        (tmp / name).symlink_to(ROOT / name)
    ran = 0
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        for marker, lang, info, body in blocks(path):
            if lang == "python":
                exec(compile(body, f"{path.name} (python block)", "exec"), {"__name__": "__docs__"})
            elif lang == "yaml" and (title := re.search(r'title="([^"]+)"', info)):
                (tmp / title.group(1)).write_text(body)
            elif lang in ("console", "bash"):
                for line in commands(body):
                    if marker:
                        check_options_exist(line, tmp)
                    else:
                        run_line(line, tmp)
            else:
                continue
            ran += 1
    finally:
        os.chdir(cwd)
    return ran


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run(page, tmp_path):
    run_page(page, tmp_path)


def test_readme_examples_run(tmp_path):
    text = (ROOT / "README.md").read_text()
    assert text.startswith("# labctl\n\n```console\nmake demo\nmake test\n```\n"), "README must open with the two commands"
    assert run_page(ROOT / "README.md", tmp_path) >= 3


def test_tutorials_have_examples():
    for name in ("index.md", "first-day.md", "own-data.md", "hil-training.md"):
        assert sum(1 for _ in blocks(ROOT / "docs" / name)) >= 3, name


def test_unrunnable_command_is_caught(tmp_path):
    """The checker itself: a misspelt option or an unknown command fails."""
    with pytest.raises(AssertionError):
        run_line("labctl run ltp_ltd --no-such-option 1", tmp_path)
    with pytest.raises(AssertionError):
        check_options_exist("labctl bench check --no-such-option", tmp_path)
    with pytest.raises(AssertionError):
        run_line("rm -rf /", tmp_path)


def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
