"""Bench sessions: a marker file per open bench, so a crashed run is noticed by the next command.

Opening a bench (``HardwareArray``, ``labctl bench check``) writes
``<state dir>/sessions/<bench>.<pid>.<n>.json`` and a clean close removes it. A marker whose process is
gone means that process died with the bench open (SIGKILL, power loss, a hung driver killed): outputs
may still be on and relays closed. The next command that opens the same bench file finds it, puts
the bench into the safe state first (outputs off, relays open: what ``labctl bench safe`` does),
prints one line naming the interrupted run and how to resume it, and removes the marker.

The run's own data journal (points appended and flushed, operations in ``<stem>.ops``) is
kept by :func:`procedures.run_procedure`; the marker only points at it (``note``).
A bench with real instruments is also locked while open (``<state dir>/sessions/<bench>.lock``, holding
the PID): a second process opening it fails at once naming that PID (:func:`hold_bench`).
The state dir is ``$LABCTL_STATE_DIR`` or the platform's user state dir.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .atomic import replacing
from .errors import LabctlError

STATE_ENV = "LABCTL_STATE_DIR"
"""Environment variable overriding where session markers live."""
_counter = itertools.count(1)


def state_dir() -> Path:
    """Where labctl keeps session markers (created)."""
    import platformdirs

    path = Path(os.environ.get(STATE_ENV) or platformdirs.user_state_dir("labctl")) / "sessions"
    path.mkdir(parents=True, exist_ok=True)
    return path


def bench_key(bench_path) -> str:
    """File-name-safe key of a bench file (its resolved path)."""
    resolved = str(Path(bench_path).resolve())
    return f"{Path(resolved).stem}-{hashlib.sha1(resolved.encode()).hexdigest()[:10]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class BenchSession:
    """The marker of one open bench in this process."""

    path: Path
    """The marker file."""

    @classmethod
    def begin(cls, bench_path) -> BenchSession:
        """Write the marker of a bench that is now open."""
        path = state_dir() / f"{bench_key(bench_path)}.{os.getpid()}.{next(_counter)}.json"
        session = cls(path)
        session._write({"pid": os.getpid(), "bench": str(bench_path), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                        "argv": sys.argv})
        return session

    def note(self, **info) -> None:
        """Add what the bench is doing (the run's CSV and procedure) to the marker."""
        with contextlib.suppress(OSError, ValueError):
            self._write({**json.loads(self.path.read_text()), **info})

    def end(self) -> None:
        """Clean close: remove the marker (idempotent)."""
        self.path.unlink(missing_ok=True)

    def _write(self, record: dict) -> None:
        with replacing(self.path) as tmp:  # a crash never leaves half a marker
            tmp.write_text(json.dumps(record, default=str))


def unclean_sessions(bench_path) -> list[tuple[Path, dict]]:
    """Markers of this bench left by processes that no longer exist."""
    out = []
    for marker in sorted(state_dir().glob(f"{bench_key(bench_path)}.*.json")):
        try:
            record = json.loads(marker.read_text())
        except (OSError, ValueError):
            record = {"pid": int(marker.name.split(".")[-3])}
        if not _alive(int(record.get("pid", -1))):
            out.append((marker, record))
    return out


def describe(record: dict) -> str:
    """One line: which process and run ended uncleanly, and how to continue it."""
    text = f"pid {record.get('pid')} ({' '.join(Path(a).name if k == 0 else a for k, a in enumerate(record.get('argv', [])))})"
    if record.get("csv"):
        text += f", run {record['csv']}"
        if record.get("procedure"):
            text += f"; continue with: labctl run {record['procedure']} --out {Path(record['csv']).parent} --resume"
    return text


def recover_unclean(bench_path, make_safe: Callable[[], None], say: Callable[[str], None] | None = None) -> list[dict]:
    """If a previous session of this bench died uncleanly: ``make_safe()`` first, report, clear the markers.

    Returns the records of the unclean sessions (empty when there were none).
    """
    found = unclean_sessions(bench_path)
    if not found:
        return []
    make_safe()
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    for marker, record in found:
        say(f"bench {Path(bench_path).name}: previous session did not close cleanly: {describe(record)}; "
            "outputs switched off and relays opened first")
        marker.unlink(missing_ok=True)
    return [record for _, record in found]


def clear_unclean(bench_path) -> int:
    """Remove the unclean markers of a bench just made safe (``labctl bench safe``); returns how many."""
    found = unclean_sessions(bench_path)
    for marker, _ in found:
        marker.unlink(missing_ok=True)
    return len(found)


# -- one process per bench ------------------------------------------------------------------------
_held: dict[str, int] = {}
"""Locks this process holds: lock file -> how many open benches use it."""


class BenchBusyError(LabctlError):
    """Another live process has this bench open."""


def lock_path(bench_path) -> Path:
    """The lock file of a bench file (one per resolved path)."""
    return state_dir() / f"{bench_key(bench_path)}.lock"


def hold_bench(bench_path, say: Callable[[str], None] | None = None) -> Path:
    """Take the bench's lock for this process, or raise :class:`BenchBusyError` naming the PID holding it.

    Two processes driving one bench would interleave their commands on the same instruments. The lock
    file holds the PID and command line; a lock left by a dead process is taken over with a warning.
    Re-entrant within a process; :func:`release_bench` undoes one hold (and the process exit all).
    """
    path = lock_path(bench_path)
    key = str(path)
    if key in _held:
        _held[key] += 1
        return path
    record = json.dumps({"pid": os.getpid(), "argv": sys.argv, "started": time.strftime("%Y-%m-%dT%H:%M:%S")})
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                other = json.loads(path.read_text())
            except (OSError, ValueError):
                other = {"pid": -1}  # being written, or torn: look again
                time.sleep(0.05)
                if path.exists() and time.time() - path.stat().st_mtime < 2:
                    continue
            pid = int(other.get("pid", -1))
            if pid > 0 and _alive(pid):
                command = " ".join(Path(a).name if k == 0 else a for k, a in enumerate(other.get("argv", [])))
                raise BenchBusyError(f"bench {bench_path} is in use by pid {pid} ({command}, since "
                                     f"{other.get('started', '?')}); wait for it or stop it (lock {path})")
            (say or (lambda line: print(line, file=sys.stderr, flush=True)))(
                f"bench {Path(bench_path).name}: taking over the lock of pid {pid}, which no longer runs")
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(record)
        _held[key] = 1
        atexit.register(_release_all)
        return path
    raise BenchBusyError(f"bench {bench_path}: cannot take the lock {path}")


def release_bench(bench_path) -> None:
    """Undo one :func:`hold_bench` of this process; the last one removes the lock file."""
    path = lock_path(bench_path)
    key = str(path)
    if key not in _held:
        return
    _held[key] -= 1
    if _held[key] <= 0:
        del _held[key]
        path.unlink(missing_ok=True)


def _release_all() -> None:
    for key in list(_held):
        Path(key).unlink(missing_ok=True)
    _held.clear()
