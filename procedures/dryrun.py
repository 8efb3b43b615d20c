"""Bench-time estimates: run a procedure on a simulated copy of the bench and count what it would send.

``open_backend(spec, simulate=True)`` builds the bench file's instruments, probe card and timings as
simulated instruments, so a dry run sends nothing to any real instrument. Its ``stats`` give the
messages, routings and bench time (``BenchStats.estimated_s``) the real run should cost. A procedure
with an ``operation`` parameter (array_map: ``vector`` or ``cell``) is estimated for every operation;
operations other than the chosen one are sampled on ``SAMPLE_ROWS`` rows (a procedure with a ``rows``
parameter) and scaled to the full run, because a cell-by-cell map simulates hundreds of thousands of
messages.

Before a run (not ``--dry-run``) the estimate must take seconds, also for an enormous run: it stops at
the bench-time budget (``max_bench_s``) or after ``ESTIMATE_WALL_S`` of simulation, whichever comes
first, and then scales the bench time simulated so far by the procedure's progress (its records'
share of the run). A run without a point yet cannot be scaled: it simulates on, up to
``FIRST_POINT_WALL_S``; stopped before its first point the estimate is a lower bound
(``BenchEstimate.known`` False) and the run asks for ``--yes``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from labctl.backends import open_backend

from .params import build, describe
from .provenance import write_run_json
from .registry import get_spec
from .replay import JournalledBackend, StopRequested
from .spec import model_of

SAMPLE_ROWS = 1
"""Rows simulated for an operation that is not the chosen one (its estimate is scaled from them)."""
ESTIMATE_WALL_S = 5.0
"""Wall seconds the estimate before a run simulates (then it scales by the progress made)..."""
FIRST_POINT_WALL_S = 30.0
"""...or, while the run has made no progress to scale by, at most (then its length is unknown)."""
_now = time.monotonic
"""The wall clock of ``max_wall_s``."""


@dataclass(frozen=True)
class BenchEstimate:
    """What one procedure run costs on the bench, from a dry run on simulated instruments."""

    operation: str
    """Operation estimated (``vector``, ``cell``), or ``-`` for a procedure without that choice."""
    commands: int
    """VISA messages (writes and queries) the run sends (0 on ``sim``: no instruments)."""
    routings: int
    """Relay changes."""
    estimated_s: float
    """Bench time in s from the bench file's timings (``sim``: the simulated chip's time)."""
    scale: float = 1.0
    """Factor applied to a sampled dry run (1 when the whole run was simulated)."""
    chosen: bool = True
    """Whether this is the operation the run will use."""
    complete: bool = True
    """False: the dry run stopped at its bench budget (``max_bench_s``: ``estimated_s`` is a lower bound) or
    at ``ESTIMATE_WALL_S`` (``estimated_s`` scaled by ``progress``)."""
    progress: float = 100.0
    """Percent of the run the dry run simulated (its progress when it stopped)."""
    scaled: bool = False
    """Stopped at ``ESTIMATE_WALL_S``: ``estimated_s`` is the part simulated scaled by ``progress``."""

    @property
    def known(self) -> bool:
        """Whether ``estimated_s`` stands for the whole run (simulated, or scaled from the progress made),
        not a lower bound (stopped at the bench budget, or before the first point)."""
        return self.complete or self.scaled


def dry_run(name: str, backend_spec: str, model: str, seed: int, params: dict[str, str],
            every_operation: bool = True, max_bench_s: float | None = None,
            max_wall_s: float | None = None) -> list[BenchEstimate]:
    """Estimates of procedure ``name`` with ``params`` on a simulated copy of ``backend_spec``.

    ``every_operation=False`` estimates only the chosen operation. ``max_bench_s``: stop simulating once
    the run would take longer on the bench (the estimate is then a lower bound, ``complete=False``);
    ``max_wall_s``: stop after that much simulating and scale by the progress made. So an enormous run is
    refused in seconds, not after simulating all of it.
    """
    spec = get_spec(name)
    infos = {i.name: i for i in describe(spec.params_cls)}
    chosen = build(spec.params_cls, params)
    if "operation" not in infos:
        return [_simulate(name, backend_spec, model, seed, params, "-", max_bench_s=max_bench_s,
                          max_wall_s=max_wall_s)]
    out = []
    for operation in infos["operation"].choices:
        if operation != chosen.operation and not every_operation:
            continue
        values = {**params, "operation": operation}
        scale = 1.0
        if operation != chosen.operation and "rows" in infos:
            total = chosen.rows or _shape(backend_spec)[0]
            values["rows"] = min(SAMPLE_ROWS, total)
            scale = total / values["rows"]
        out.append(_simulate(name, backend_spec, model, seed, values, operation, scale,
                             operation == chosen.operation, max_bench_s, max_wall_s))
    return out


def _shape(backend_spec: str) -> tuple[int, int]:
    if backend_spec == "sim":
        from labctl.layout import CellLayout

        return CellLayout.sparse().shape
    from labctl.backends import SIM_BENCH_FILE
    from labctl.benchfile import load_bench

    return load_bench(SIM_BENCH_FILE if backend_spec == "sim-instruments" else backend_spec).probecard.shape


def _simulate(name, backend_spec, model, seed, values, operation, scale=1.0, chosen=True,
              max_bench_s: float | None = None, max_wall_s: float | None = None) -> BenchEstimate:
    spec = get_spec(name)
    progress = [0.0]
    with open_backend(backend_spec, model=model, seed=seed, simulate=True) as chip:
        chip_model = model_of(chip)
        params = build(spec.params_cls, values)
        spec.preflight(chip, params, chip_model)
        before, start = _counters(chip), _now()
        scaling, first = (max_wall_s or float("inf"), max(max_wall_s or float("inf"), FIRST_POINT_WALL_S))

        def past_budget(now) -> bool:  # a lower bound past the bench budget: refused as it is
            return max_bench_s is not None and scale * (now[2] - before[2]) > max_bench_s

        def over() -> bool:
            if past_budget(_counters(chip)):
                return True
            spent = _now() - start
            return spent > first or (spent > scaling and progress[0] > 0)

        def seen(topic, value) -> None:
            if topic == "progress":
                progress[0] = float(value)

        try:
            spec.run(JournalledBackend(chip, None, stop=over), params, seen, model=chip_model)
            progress[0] = 100.0
        except StopRequested:
            pass
        after = _counters(chip)
    done = progress[0] >= 100.0
    scaled = not done and not past_budget(after) and progress[0] > 0
    extent = scale * (100.0 / progress[0] if scaled else 1.0)
    messages, routings, seconds = (extent * (a - b) for a, b in zip(after, before))
    return BenchEstimate(operation, round(messages), round(routings), seconds, scale, chosen, done, progress[0],
                         scaled)


def _counters(chip) -> tuple[float, float, float]:
    """(messages, routings, bench seconds) so far: the bench model's, or the chip's time on ``sim``."""
    if chip.describe().kind == "sim":  # a simulated chip: no bus, no bench-time model
        return 0.0, 0.0, chip.time_s
    return chip.stats.messages, chip.stats.routings, chip.stats.estimated_s


def describe_estimate(e: BenchEstimate) -> str:
    """One console line: operation, commands, routings, bench time."""
    sampled = f" (scaled x{e.scale:g} from {SAMPLE_ROWS} row)" if e.scale != 1 else ""
    single = e.operation == "-"  # a procedure without an operation choice: one estimate, nothing to mark
    chosen = " <- this run" if e.chosen and not single else ""
    operation = "" if single else f"{e.operation}: "
    if e.scaled:
        return (f"{operation}about {e.commands} commands, {e.routings} routings, estimated bench time "
                f"{e.estimated_s:.0f} s ({e.estimated_s / 3600:.1f} h) (scaled from the first {e.progress:.3g} % "
                f"of the run){sampled}{chosen}")
    if not e.complete:
        first = ", before the first point" if e.progress == 0 else ""
        return (f"{operation}more than {e.commands} commands, {e.routings} routings, estimated bench time "
                f"over {e.estimated_s:.0f} s ({e.estimated_s / 3600:.1f} h) (the estimate stopped there{first})"
                f"{sampled}{chosen}")
    return (f"{operation}{e.commands} commands, {e.routings} routings, estimated bench time "
            f"{e.estimated_s:.1f} s{sampled}{chosen}")


def record_bench_time(json_path: Path, estimate: BenchEstimate | None, elapsed_s: float, commands: int,
                      wall_s: float | None = None, simulated: bool = False) -> dict:
    """Add ``bench_time`` to the run's JSON: the estimate before the run; after it the bench time
    (``elapsed_s``: the simulated clock on a simulated bench), the commands, the wall time and whether
    the bench was simulated."""
    record = json.loads(json_path.read_text()) if json_path.exists() else {}
    record["bench_time"] = {"estimate": asdict(estimate) if estimate else None, "elapsed_s": elapsed_s,
                            "commands": commands, "wall_s": wall_s, "simulated": simulated}
    write_run_json(json_path, record)
    return record["bench_time"]


def bench_counters(chip) -> tuple[float, int]:
    """(backend time in s, messages sent) now: on the bench ``time_s`` is the wall clock, on sim the chip's."""
    return chip.time_s, chip.messages_sent


def describe_elapsed(timing: dict) -> str:
    """One console line: bench time (named simulated where it is), wall time and commands, against the
    estimate if there was one."""
    bench = f"bench time{' (simulated)' if timing.get('simulated') else ''} {_seconds(timing['elapsed_s'])}"
    wall = f", wall time {_seconds(timing['wall_s'])}" if timing.get("wall_s") is not None else ""
    line = f"{bench}{wall}, {timing['commands']} commands"
    estimate = timing["estimate"]
    if estimate:
        off = (timing["elapsed_s"] - estimate["estimated_s"]) / estimate["estimated_s"] if estimate["estimated_s"] else 0
        line += f" (estimated {_seconds(estimate['estimated_s'])}, {estimate['commands']} commands: {off:+.1%})"
    return line


def _seconds(s: float) -> str:
    """``72.04`` -> ``"72.0 s"``; ``4000`` -> ``"4000 s (1.1 h)"``: seconds, and hours or minutes past an hour or minute."""
    if s >= 3600:
        return f"{s:.0f} s ({s / 3600:.1f} h)"
    return f"{s:.1f} s ({s / 60:.1f} min)" if s >= 60 else f"{s:.3g} s"
