"""Resume any procedure from its last complete point: an operation journal, replayed on resume.

A procedure is a deterministic function of its parameters and of what the backend returns. While a
run records, :class:`JournalledBackend` buffers every backend operation with its result (reads,
sweeps, the clock); at each point boundary (the first operation after records were emitted) the
buffer is appended to ``<stem>.ops`` as one flushed JSON line with the number of records written so
far, and a simulated bench's state is saved next to it (``<stem>.chip.npz``). On resume the
procedure runs again from its start against the journal: journalled operations are answered from
it (nothing reaches the chip twice), records already in the CSV are not written again, and at the
end of the journal the live backend takes over. On a simulator the saved state is restored first,
so a resumed run ends with the same data as an uninterrupted one (same seed). A real chip keeps its
own state: what the interrupted point had already applied stays applied, and only that point is
repeated (at most the current point is lost).

A stop request (Ctrl-C) is also honoured inside a point, before the next operation (one pulse train
or read on the bench): the operations done so far are journalled as a point of their own and
:class:`StopRequested` ends the procedure, so a long phase that emits no record (a write-verify, a
retention's programming) stops within one operation and a resume replays it to that operation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from labctl.atomic import replacing
from labctl.backend import BackendProxy, PulseReport
from labctl.errors import DataError
from labctl.specs import ReadSpec


class StopRequested(Exception):
    """A stop was requested inside a point: the journal holds every operation done, ``--resume`` goes on."""


class JournalledBackend(BackendProxy):
    """``backend`` with every seam operation journalled (or answered from ``replay`` first).

    ``log`` None journals nothing and only runs ``check`` on every operation (GUI runs, which do not resume).
    """

    def __init__(self, backend, log, replay: list | None = None, records_done: int = 0,
                 on_point: Callable[[int, int], None] | None = None,
                 check: Callable[[str, tuple, object], None] | None = None,
                 stop: Callable[[], bool] | None = None):
        super().__init__(backend)
        self._log = log
        self._replay = list(replay or [])
        self._cursor = 0
        self._buffer: list = []
        self.records = 0
        """Records emitted so far in this execution (replayed ones included)."""
        self._ops_since_record = 0
        self.journalled = records_done
        """Records covered by the journal on disk."""
        self.journalled_ops = len(self._replay)
        """Operations covered by the journal on disk."""
        self._on_point = on_point
        self._check = check
        self._stop = stop
        """Asked before every live operation: True journals what was done and raises :class:`StopRequested`."""

    @property
    def replaying(self) -> bool:
        return self._cursor < len(self._replay)  # (one past the end once the checks were told)

    def recorded(self) -> None:
        """The procedure emitted one record."""
        self.records += 1
        self._ops_since_record = 0

    def between_points(self) -> bool:
        """No operation since the last record: a stop here leaves no half-done point in the data."""
        return self._ops_since_record == 0

    def end_point(self) -> None:
        """Journal the buffered operations as complete (a boundary), then ``on_point(records, operations)``
        (the runner saves the simulated state, tagged with them)."""
        if not self._buffer and self.records <= self.journalled:
            return
        if self._log is not None:
            self._log.write(json.dumps({"records": self.records, "ops": self._buffer}) + "\n")
            self._log.flush()
        self.journalled_ops += len(self._buffer)
        self._buffer = []
        self.journalled = self.records
        if self._on_point is not None:
            self._on_point(self.records, self.journalled_ops)

    def _op(self, name: str, args: tuple, live: Callable[[], object]):
        self._ops_since_record += 1
        if self.replaying:
            recorded, value = self._replay[self._cursor]
            if recorded != name:
                raise DataError(f"resume: the journal has {recorded!r} where the procedure now does {name!r} "
                                f"(operation {self._cursor + 1}): different code or parameters; start a new run")
            self._cursor += 1
            result = decode(value)
        else:
            if self._cursor and self._cursor == len(self._replay) and self._check is not None:
                self._cursor += 1  # once: the journal is done, the live (perhaps mended) bench takes over
                self._check("resumed", (), None)
            if self.records > self.journalled:
                self.end_point()
            if self._stop is not None and self._stop():
                self.end_point()  # the operations of this unfinished point, so a resume replays them
                raise StopRequested(f"stopped before operation {self.journalled_ops + 1} ({name})")
            result = live()
            if self._log is not None:
                self._buffer.append([name, encode(result)])
        if self._check is not None:  # replayed operations too, so the checks resume with their history
            self._check(name, args, result)
        return result

    # -- the ArrayBackend operations ----------------------------------------------------------------
    def apply_pulses(self, devices, pulse, count=1):
        return self._op("apply_pulses", (devices, pulse, count),
                        lambda: self.backend.apply_pulses(devices, pulse, count))

    def apply_vector_update(self, rows, cols, pulse, count=1):
        return self._op("apply_vector_update", (rows, cols, pulse, count),
                        lambda: self.backend.apply_vector_update(rows, cols, pulse, count))

    def apply_pulses_at(self, rows, cols, pulse, counts):
        return self._op("apply_pulses_at", (rows, cols, pulse, counts),
                        lambda: self.backend.apply_pulses_at(rows, cols, pulse, counts))

    def pulse_and_read_at(self, rows, cols, pulses, counts, read: ReadSpec = ReadSpec()):
        return self._op("pulse_and_read_at", (rows, cols, pulses, counts, read),
                        lambda: self.backend.pulse_and_read_at(rows, cols, pulses, counts, read))

    def read(self, devices, read: ReadSpec = ReadSpec()):
        return self._op("read", (devices, read), lambda: self.backend.read(devices, read))

    def read_at(self, rows, cols, read: ReadSpec = ReadSpec()):
        return self._op("read_at", (rows, cols, read), lambda: self.backend.read_at(rows, cols, read))

    def read_mvm(self, inputs, read: ReadSpec = ReadSpec()):
        return self._op("read_mvm", (inputs, read), lambda: self.backend.read_mvm(inputs, read))

    def sweep_transfer(self, devices, gate_v, drain_v=0.1):
        return self._op("sweep_transfer", (devices, gate_v, drain_v),
                        lambda: self.backend.sweep_transfer(devices, gate_v, drain_v))

    def wait(self, duration_s: float) -> None:
        return self._op("wait", (duration_s,), lambda: self.backend.wait(duration_s))

    @property
    def time_s(self) -> float:
        return self._op("time_s", (), lambda: self.backend.time_s)

    @property
    def temperature_k(self) -> float:
        return self._op("temperature_k", (), lambda: self.backend.temperature_k)


def encode(value):
    """A JSON-ready form of an operation's result (floats round-trip exactly; NaN entries are left out)."""
    if value is None:
        return None
    if isinstance(value, tuple):  # pulse_and_read_at: (report, conductances)
        return {"pair": [encode(part) for part in value]}
    if isinstance(value, PulseReport):
        return {"report": [value.pulses, value.transactions, value.duration_s]}
    if isinstance(value, np.ndarray):
        flat = value.ravel()
        keep = np.flatnonzero(~np.isnan(flat))
        return {"shape": list(value.shape), "at": None if keep.size == flat.size else keep.tolist(),
                "v": flat[keep].tolist()}
    return float(value)


def decode(value):
    """The result :func:`encode` stored."""
    if value is None or isinstance(value, float | int):
        return value
    if "pair" in value:
        return tuple(decode(part) for part in value["pair"])
    if "report" in value:
        pulses, transactions, duration_s = value["report"]
        return PulseReport(int(pulses), int(transactions), float(duration_s))
    out = np.full(int(np.prod(value["shape"])), np.nan)
    out[slice(None) if value["at"] is None else np.asarray(value["at"], dtype=np.int64)] = value["v"]
    return out.reshape(value["shape"])


def load_journal(path: Path, until_ops: int | None = None) -> tuple[list, int]:
    """(operations, records) of the complete points journalled in ``path``, up to the point whose
    cumulative operation count is ``until_ops`` (the one a saved state belongs to). Lines after it, or a
    torn last line, are cut from the file so the resumed run appends to a consistent journal."""
    ops, records = [], 0
    if not path.exists():
        return ops, records
    lines = path.read_text().splitlines(keepends=True)
    used = 0
    for line in lines:
        if until_ops is not None and len(ops) >= until_ops:
            break  # the process died after journalling this point but before saving its state
        try:
            entry = json.loads(line)
        except ValueError:
            break  # the process died while writing this line: the point was not complete
        ops += entry["ops"]
        records = int(entry["records"])
        used += 1
    if used < len(lines):
        with replacing(path) as tmp:
            tmp.write_text("".join(lines[:used]))
    if until_ops is not None and len(ops) != until_ops:
        raise DataError(f"resume: {path.name} holds {len(ops)} operations where the saved state expects "
                        f"{until_ops}; start a new run")
    return ops, records


def keep_records(csv_path: Path, records: int, comment: str) -> int:
    """Cut the CSV after its first ``records`` data lines (records of a point the journal does not hold);
    returns how many were cut."""
    lines = csv_path.read_text().splitlines(keepends=True)
    head = 0
    while head < len(lines) and lines[head].startswith(comment):
        head += 1
    head += 1  # the column labels
    extra = len(lines) - head - records
    if extra > 0:
        with replacing(csv_path) as tmp:
            tmp.write_text("".join(lines[:head + records]))
    return max(extra, 0)


JOURNAL_TAG = "journal.records_ops"
"""Key of the saved state's (records, operations): the journalled point it belongs to."""


SAVE_EVERY_S = 1.0
"""Wall seconds between writes of the simulated state (each point's is kept in memory meanwhile)."""


class StateSaver:
    """Saves a simulated bench's state at journalled points: in memory at each, to ``path`` at most every
    ``SAVE_EVERY_S`` and when the run ends (also by an error), so writing never dominates a fast
    simulation. After a SIGKILL the file may be up to that long behind: the journal is cut back to it."""

    def __init__(self, state, path: Path, records: int = 0, ops: int = 0, every_s: float = SAVE_EVERY_S) -> None:
        import time

        self.state, self.path, self.every_s, self._clock = state, path, every_s, time.monotonic
        self._pending: tuple | None = None
        self._written = self._clock()
        self._write(state.snapshot(), records, ops)  # where this execution starts (after a restore: that point)

    def __call__(self, records: int, ops: int) -> None:
        self._pending = (self.state.snapshot(), records, ops)
        if self._clock() - self._written >= self.every_s:
            self.flush()

    def flush(self) -> None:
        """Write the last point's state if it is not on disk yet."""
        if self._pending is not None:
            self._write(*self._pending)
            self._pending = None

    def _write(self, snap: dict, records: int, ops: int) -> None:
        with replacing(self.path) as tmp, open(tmp, "wb") as f:  # a crash mid-write leaves the previous one
            np.savez(f, **snap, **{JOURNAL_TAG: np.array([records, ops])})
        self._written = self._clock()


def load_state(path: Path) -> tuple[dict, int]:
    """(snapshot, operations journalled at that point) of a state :class:`StateSaver` wrote."""
    with np.load(path) as f:
        snap = dict(f)
    return snap, int(snap.pop(JOURNAL_TAG)[1])
