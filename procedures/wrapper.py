"""The thin pymeasure ``Procedure`` around a plain procedure function.

Parameters are generated from the procedure's params dataclass (label, unit, limits), so the GUI,
the CSV header and ``labctl run --list`` cannot drift apart. The backend is either injected (headless
runs share one backend between procedures) or opened in ``startup`` from the Backend / Model / Seed
parameters and then closed in ``shutdown`` (GUI runs: outputs off, relays open on any exit).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import pandas as pd
from pymeasure.experiment import (
    BooleanParameter,
    FloatParameter,
    IntegerParameter,
    ListParameter,
    Metadata,
    Parameter,
    Procedure,
)

from labctl.errors import LabctlError

from .params import OPERATING_POINT_DEFAULTS, ParamInfo, applied, build, describe, device_ids
from .provenance import git_revision, instrument_idns, rewrite_parameters
from .spec import ProcedureSpec, model_of

COMMON_FIELDS = ("backend_spec", "bench_file", "model", "seed", "chip_id")
"""Procedure attributes every wrapper has besides the procedure's own parameters."""

BENCH_FILE = "bench file"
"""Backend choice meaning: open the bench described by the Bench file parameter."""


def make_parameter(info: ParamInfo) -> Parameter:
    """The pymeasure Parameter for one params field."""
    kw = {"default": info.default}
    if info.choices is not None:
        return ListParameter(info.label, choices=list(info.choices), units=info.units, **kw)
    if info.kind is bool:
        return BooleanParameter(info.label, **kw)
    limits = {k: v for k, v in (("minimum", info.minimum), ("maximum", info.maximum)) if v is not None}
    if info.kind is int:
        return IntegerParameter(info.label, units=info.units, **limits, **kw)
    if info.kind is float:
        return FloatParameter(info.label, units=info.units, **limits, **kw)
    return Parameter(f"{info.label} ({info.units})" if info.units else info.label, **kw)  # text: unit in the name


def failure_line(exc: BaseException) -> str:
    """An error in one line: our errors as they read ("parameter x: ..."), others with their type."""
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return text if isinstance(exc, LabctlError) and text else f"{type(exc).__name__}: {text}".rstrip(": ")


class LabProcedure(Procedure):
    """Base wrapper: subclasses only set ``spec``."""

    spec: ClassVar[ProcedureSpec]

    backend_spec = ListParameter("Backend", choices=["sim", "sim-instruments", BENCH_FILE], default="sim")
    bench_file = Parameter("Bench file", default="-", group_by="backend_spec", group_condition=BENCH_FILE)
    model = Parameter("Model", default="ning-mos2-fefet")
    seed = IntegerParameter("Seed", default=0, minimum=0, maximum=2**31 - 1)
    chip_id = Parameter("Chip id", default="")
    """Empty: the backend's own (``describe().chip_id``), filled in when the run starts."""

    temperature_k = Metadata("Temperature", fget="_temperature_k", units="K")
    instrument_idns = Metadata("Instrument IDNs", fget="_instrument_idns")
    git_revision = Metadata("Git revision", fget=git_revision)
    device_ids = Metadata("Device ids", fget="_device_ids")
    backend_class = Metadata("Backend class", fget="_backend_class")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for info in describe(cls.spec.params_cls):
            setattr(cls, info.name, make_parameter(info))
        cls.DATA_COLUMNS = list(cls.spec.columns)

    def __init__(self, backend=None, **kwargs):
        self.backend = backend
        self._owns_backend = False
        self.records: list[dict] = []
        self.summary: dict = {}
        self.data_filename: str | None = None
        """The CSV the GUI's Recorder writes (set by the window); headless runs leave it None."""
        self.run_options: dict = {}
        """Extra keyword arguments for the run function."""
        self.failure = ""
        """Why the run failed, in one line ("" unless it did)."""
        super().__init__(**kwargs)

    # -- what the run function gets ----------------------------------------------------------------
    def params(self):
        """The params dataclass built (and range-checked) from the Parameter values."""
        names = [i.name for i in describe(self.spec.params_cls)]
        return build(self.spec.params_cls, {n: getattr(self, n) for n in names})

    # -- pymeasure hooks ---------------------------------------------------------------------------
    def startup(self):
        with self._noting_failure():
            self.params()  # refuse bad parameters before opening anything
            if self.backend is None:
                from labctl.backends import open_backend

                spec = self.bench_file if self.backend_spec == BENCH_FILE else self.backend_spec
                self.backend = open_backend(spec, model=self.model, seed=int(self.seed))
                self._owns_backend = True
            self.spec.preflight(self.backend, self.params(), self.chip_model())
            self.record_applied()
            if self.data_filename:  # GUI runs: pymeasure wrote the header before the backend was open
                rewrite_parameters(Path(self.data_filename), self)

    def record_applied(self) -> None:
        """Make the header say what runs: the backend's chip id unless one was given, and the pulse the
        model's operating point stands for where a pulse parameter is 0 (not ``Pulse width: 0 s``)."""
        if not self.chip_id:
            self.chip_id = self.backend.describe().chip_id
        filled = applied(self.params(), self.chip_model())
        for name in OPERATING_POINT_DEFAULTS:
            if hasattr(filled, name):
                setattr(self, name, getattr(filled, name))

    def execute(self):
        if not self.data_filename:
            return self._execute()
        from labctl.catalog import recorded

        with self._noting_failure(), recorded("procedure", self.spec.name, self.data_filename) as run:
            self._execute()  # GUI runs: into the run catalog
            run.status = "interrupted" if self.should_stop() else "complete"

    @contextmanager
    def _noting_failure(self):
        """Keep the one-line reason of an error in ``self.failure`` (the GUI shows it), then re-raise."""
        try:
            yield
        except Exception as exc:
            self.failure = failure_line(exc)
            raise

    def _execute(self):
        from .health import HealthMonitor
        from .replay import JournalledBackend

        emit = self.emit
        checked = self.backend  # headless runs come journalled and checked by the runner; GUI runs get the
        if not isinstance(checked, JournalledBackend):  # same device-fault checks here, without a journal
            checked = JournalledBackend(self.backend, None, check=HealthMonitor(self.backend, self.chip_model()))

        def record(topic, value):
            if topic == "results":
                if checked is not self.backend:
                    checked.recorded()
                self.records.append(dict(value))
            emit(topic, value)

        self.summary = self.spec.run(checked, self.params(), record, model=self.chip_model(),
                                     should_stop=self.should_stop, **self.run_options)
        if self.data_filename:  # GUI runs: plots and run metadata next to the Recorder's CSV
            from .runner import write_outputs

            status = "aborted" if self.should_stop() else "completed"
            write_outputs(self, Path(self.data_filename), self.records_frame(), status)

    def shutdown(self):
        if self._owns_backend and self.backend is not None:
            self.backend.close()

    def records_frame(self) -> pd.DataFrame:
        """The records emitted so far, in CSV column order."""
        return pd.DataFrame(self.records, columns=self.DATA_COLUMNS)

    # -- metadata getters --------------------------------------------------------------------------
    def _temperature_k(self) -> float:
        return float(self.backend.temperature_k)

    def _instrument_idns(self) -> str:
        return instrument_idns(self.backend)

    def _backend_class(self) -> str:
        return f"{type(self.backend).__module__}.{type(self.backend).__name__}"

    def _device_ids(self) -> str:
        return device_ids(self.spec.selection(self.backend.layout, self.params()))

    def chip_model(self):
        """The chip model of this run: the backend's own if it is the one named, else the named one."""
        if not self.model or self.backend.model.name == self.model:
            return model_of(self.backend)
        return model_of(self.backend, self.model)
