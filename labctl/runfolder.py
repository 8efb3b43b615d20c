"""Run folders (``train``, ``experiment sparse-letters``/``garg-energy``, ``sweep``, ``demo``): never written over
by accident.

A folder that holds anything is refused unless ``--resume`` (continue its checkpoint) or ``--overwrite``
(start again: the old checkpoint goes first, so an interrupted restart cannot resume the old run);
``--resume`` needs a checkpoint. After Ctrl-C the command prints the exact line that continues the run.
(``labctl run`` never writes over a run: a new run of a procedure gets a new file name.)
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from labctl.errors import ConfigError, field_error

CHECKPOINT_NAME = "checkpoint.npz"
EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT), as shells report it."""


def claim(out: Path, *, resume: bool, overwrite: bool, checkpoints: str = CHECKPOINT_NAME) -> None:
    """Check ``out`` for a run starting (or resuming) there; with ``overwrite`` drop its old checkpoints.

    ``checkpoints`` is the glob, in ``out``, of what ``--resume`` continues: the run's checkpoint, or an
    experiment's runs' (``runs/*/checkpoint.npz``)."""
    if resume and overwrite:
        raise ConfigError("--resume continues the run in --out, --overwrite replaces it: give one")
    saved = sorted(out.glob(checkpoints)) if out.is_dir() else []
    if resume:
        if not saved:
            why = "no such folder" if not out.exists() else f"no {checkpoints} in it"
            raise field_error(ConfigError, "--out", str(out), f"nothing to resume ({why}); drop --resume to start "
                              "a new run")
        return
    if out.is_file():
        raise field_error(ConfigError, "--out", str(out), "is a file; give a folder")
    held = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if held and not overwrite:
        shown = ", ".join(held[:3]) + (", ..." if len(held) > 3 else "")
        raise field_error(ConfigError, "--out", str(out), f"not empty ({shown}): add --resume to continue its run, "
                          "--overwrite to replace it, or choose another folder")
    for checkpoint in saved if overwrite else ():
        checkpoint.unlink()


def checkpoint_epoch(out: Path) -> int | None:
    """Epochs the checkpoint in ``out`` holds (0: the devices' starting state only), None without one."""
    import numpy as np

    path = out / CHECKPOINT_NAME
    if not path.is_file():
        return None
    with np.load(path) as f:
        return int(f["epoch"])


def continue_command(argv: list[str] | None = None) -> str:
    """The command line of this process with ``--resume`` instead of ``--overwrite``, ready to paste."""
    argv = list(sys.argv if argv is None else argv)
    program = "python -m labctl" if argv[0].endswith("__main__.py") else Path(argv[0]).name
    args = [a for a in argv[1:] if a not in ("--overwrite", "--resume")]
    return " ".join([program, shlex.join(args), "--resume"])


def interrupted_message(out: Path, checkpoints: str = CHECKPOINT_NAME) -> str:
    """The line printed after Ctrl-C: how far the run got and the command that continues it."""
    saved = sorted(out.glob(checkpoints))
    if not saved:
        return (f"interrupted before the first checkpoint: nothing in {out} to continue; start again with: "
                f"{continue_command().removesuffix(' --resume')} --overwrite")
    got = f"after epoch {checkpoint_epoch(out)}" if checkpoints == CHECKPOINT_NAME else \
        f"with {len(saved)} run{'s' if len(saved) > 1 else ''} checkpointed"
    return f"interrupted {got}; continue with: {continue_command()}"


@contextmanager
def interrupting(out: Path, checkpoints: str = CHECKPOINT_NAME) -> Iterator[None]:
    """Ctrl-C in the block: print :func:`interrupted_message` on stderr and exit with code 130."""
    try:
        yield
    except BaseException as exc:
        if not _by_ctrl_c(exc):
            raise
        from rich.console import Console

        Console(stderr=True).print(interrupted_message(out, checkpoints), highlight=False, soft_wrap=True)
        sys.exit(EXIT_INTERRUPTED)


def _by_ctrl_c(exc: BaseException | None) -> bool:
    """A KeyboardInterrupt, or an error it caused: Ctrl-C while numba loads a cached kernel surfaces as a
    SystemError whose cause is the KeyboardInterrupt."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
