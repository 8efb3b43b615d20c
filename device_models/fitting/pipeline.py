"""measure -> fit -> simulate: from LTP/LTD files to a ``ChipModel`` that ``SimulatedArray`` loads.

Steps: import every file (:mod:`device_models.importers`), align each phase's trains and average
them, fit the bounds (soft-bounds asymptotes of the mean traces), fit each phase's step curve with
the papers' 5th-degree polynomial and with soft bounds (choice by AIC), then the spreads: step scale
and bounds per device (device to device), read and write noise from the step residuals (cycle to
cycle). What the data cannot determine (switching kinetics, retention, transfer curve) comes from
the base model and is listed in the provenance.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..importers import Measurement, load_measurement
from ..modelfile import load_model, save_model
from ..params import ChipModel, DeviceParams, Kinetics, OperatingPoint, PolarityParams, Variation
from ..physics import conductance, pulse_step
from .gate import gate_reasons, replay
from .ramps import fit_activation, is_ramp
from .steps import StepFit, fit_bounds, fit_phase
from .traces import PhaseTrains, phase_trains, plateaus, train_scales
from .variation import fit_variation, why_borrowed

DEFAULT_BASE_MODEL = "garg-hzo-2us"
"""Model whose kinetics, retention and transfer curve a fit keeps (the pulse data cannot fix them)."""
PHASES = ("LTP", "LTD")
SCALES = ("auto", "linear", "log")
"""``scale`` option: the conductance axis of the fit."""
MIN_WIDTH_S = 10e-9
"""Shortest pulse width an instrument applies, in s (B1500 SPGU minimum; ../shared/docs/BENCH.md)."""
MAX_WIDTH_S = 2.0
"""Longest pulse width an instrument applies, in s (B1500 SMU pulsed mode, ``PT``: 0.5 ms to 2 s)."""


@dataclass
class FitResult:
    """A fitted model and everything that went into it."""

    model: ChipModel
    """The fitted chip model, with provenance (files, sha256, fit date, fit quality)."""
    report: pd.DataFrame
    """Fit quality per phase (index LTP, LTD): chosen model, AIC of both, nRMSE, bounds, noise."""
    chosen: dict[str, StepFit]
    """The step fit used in the model, per phase."""
    fits: dict[str, dict[str, StepFit]]
    """Both candidate fits ("polynomial", "power") per phase."""
    trains: dict[str, PhaseTrains]
    """The aligned measured trains per phase."""
    measurements: list[Measurement] = field(default_factory=list)
    """The imported files."""
    saved: list[Path] = field(default_factory=list)
    """Files written for this fit (model JSON first, then plots); empty until it is saved."""
    decisions: list[str] = field(default_factory=list)
    """What the fit decided (branch, scale) beyond each file's import decisions."""
    gate: list[str] = field(default_factory=list)
    """Why the model fails the gate (empty: it passes); see :mod:`.gate`."""
    replayed: dict = field(default_factory=dict)
    """Per phase: the measured mean trace, its replay on the model (normalised state) and the nRMSE."""
    axis: tuple = (0.0, 1.0, None)
    """(lower bound, upper bound, g_ref): the fit axis is G in S, or ln(G / g_ref) when g_ref is set."""

    def to_conductance(self, x):
        """Readings on the fit axis, in S."""
        return x if self.axis[2] is None else self.axis[2] * np.exp(x)

    @property
    def symmetry_point(self) -> float:
        return float(self.model.provenance["symmetry_point"])


def fit_files(paths: list, base_model: str | ChipModel = DEFAULT_BASE_MODEL, name: str | None = None,
              branch: str = "both", scale: str = "auto", **mapping_options) -> FitResult:
    """Import ``paths`` with ``mapping_options`` (see :func:`load_measurement`) and fit one model."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise DataError("no input files")
    measurements = [load_measurement(p, branch=branch, **mapping_options) for p in paths]
    return fit_measurements(measurements, base_model, name, branch=branch, scale=scale)


def fit_measurements(measurements: list[Measurement], base_model: str | ChipModel = DEFAULT_BASE_MODEL,
                     name: str | None = None, branch: str = "both", scale: str = "auto") -> FitResult:
    """Fit one model to already imported measurements (devices of different files kept apart).

    ``branch`` "ltp" or "ltd" fits one phase and takes the other from the base model; ``scale``
    "linear", "log" or "auto" (log when a train spans more than a decade) is the conductance axis the
    bounds and steps are fitted on.
    """
    base = load_model(base_model)
    table = _combine(measurements)
    phases, decisions = _phases_to_fit(table, branch, measurements[0].path, base.name)
    table = table[table.phase.isin(phases)]
    log, why = _choose_scale(table, scale)
    if scale == "auto" and log:  # wide trains: the axis whose model passes the gate and replays better
        both = [fit_measurements(measurements, base, name, branch, s) for s in ("linear", "log")]
        scores = [_replay_score(r) for r in both]
        best = min(zip(both, scores), key=lambda rs: (bool(rs[0].gate), rs[1]))[0]
        k = next(i for i, d in enumerate(best.decisions) if d.startswith("scale:"))
        best.decisions[k] = (f"scale: {best.model.provenance['scale']} (auto: {why.split(': ', 1)[1]}; replay error "
                              "on linear + log G: " + ", ".join(
                                  f"{r.model.provenance['scale']} {sc:.4f}" + (" (fails the gate)" if r.gate else "")
                                  for r, sc in zip(both, scores)) + ")")
        return best
    decisions.append(f"scale: {'log' if log else 'linear'} ({why})")
    g_ref = float(table.conductance_s.min()) / 10 if log else 1.0
    if log:  # fit on ln(G / g_ref) > 0: bounds, steps and read noise on the axis the device moves along
        table = table.assign(conductance_s=np.log(table.conductance_s / g_ref))
    amp = table.amplitude_v.abs().to_numpy()
    amp_known = np.isfinite(amp) & (amp > 0)
    ref_v = float(np.median(amp[amp_known])) if amp_known.any() else base.operating_point.write_amplitude_v
    widths = table.width_s.to_numpy()
    ref_t = float(np.median(widths[np.isfinite(widths)])) if np.isfinite(widths).any() else base.operating_point.write_width_s
    check_widths(widths[np.isfinite(widths)], measurements[0].path)
    kin = {"LTP": base.weight.potentiation.kinetics, "LTD": base.weight.depression.kinetics}
    trains = {p: phase_trains(table, p, kin[p], ref_v, ref_t) for p in phases}
    ramps, op_amp = {}, {}
    for p in phases:  # a ramp shows the branch's own amplitude dependence: fit it, never borrow the base's
        amp_p, width_p = trains[p].protocol(ref_v, ref_t)
        op_amp[p] = float(np.median(amp_p))
        if amp_known.any() and is_ramp(amp_p):
            fitted, note = fit_activation(p, trains[p].mean()[0], amp_p, width_p, kin[p], ref_v, ref_t)
            if fitted is not None:
                kin[p] = fitted
                trains[p] = phase_trains(table, p, kin[p], ref_v, ref_t)
            ramps[p], op_amp[p] = (float(amp_p[0]), float(amp_p[-1])), float(np.max(amp_p))
            decisions.append(note)
    means = {p: trains[p].mean() for p in phases}
    readings = np.concatenate([trains[p].conductance_s.ravel() for p in phases])
    reached = tuple(np.nanpercentile(readings, [0.5, 99.5]))
    x_min, x_max = fit_bounds(*means.get("LTP", (None, None)), *means.get("LTD", (None, None)), reached=reached)
    g_min, g_max = (g_ref * np.exp(x_min), g_ref * np.exp(x_max)) if log else (x_min, x_max)
    if not (np.isfinite(g_min) and np.isfinite(g_max) and 0 < g_min < g_max):
        raise DataError(f"fitted bounds Gmin={g_min:.4g} S, Gmax={g_max:.4g} S are not a conductance range")
    span = x_max - x_min
    chosen, fits = {}, {}
    for p in phases:
        trace, ratios = means[p]
        chosen[p], fits[p] = fit_phase(p, (trace - x_min) / span, ratios)
    lo, hi = _device_bounds(trains, x_min, x_max)
    scales = [train_scales(chosen[p], trains[p], lo[p], hi[p]) for p in phases]
    in_s = (lambda x: g_ref * np.exp(x)) if log else (lambda x: x)
    variation, sources = fit_variation(chosen, trains, scales, lo, hi, log, in_s, base.weight.variation)
    resolved = {**{p: _saturates(means[p][0]) for p in phases}, "sources": sources}
    sides = {p: _polarity_params(chosen[p], kin[p], ref_v, ref_t) for p in phases}
    for p, attr in (("LTP", "potentiation"), ("LTD", "depression")):
        if p not in sides:
            sides[p] = _base_side(getattr(base.weight, attr), base.weight, ref_v, ref_t)
    weight = DeviceParams(
        g_min_s=float(g_min), g_max_s=float(g_max), conductance_scale="log" if log else "linear",
        potentiation=sides["LTP"], depression=sides["LTD"],
        reference_amplitude_v=ref_v, reference_width_s=ref_t, variation=variation,
        retention=base.weight.retention, transfer=base.weight.transfer)
    read_v = next((ms.read_voltage_v for ms in measurements if ms.read_voltage_v), base.operating_point.read_v)
    for p, up in (("LTP", True), ("LTD", False)):
        op_amp.setdefault(p, base.operating_point.amplitude_v(up))  # a branch not fitted: the base's pulse
    op = OperatingPoint(write_amplitude_v=op_amp["LTP"], write_width_s=ref_t, read_v=abs(read_v),
                        ltd_amplitude_v=op_amp["LTD"] if abs(op_amp["LTD"] / op_amp["LTP"] - 1) > 0.01 else None,
                        ltp_ramp_v=ramps.get("LTP", ()), ltd_ramp_v=ramps.get("LTD", ()))
    decisions.append(f"operating point: LTP {op.amplitude_v(True):g} V, LTD -{op.amplitude_v(False):g} V, "
                     f"{ref_t:g} s" + "".join(f"; measured {p} ramp {a:g}..{b:g} V replayed by labctl run ltp_ltd"
                                               for p, (a, b) in ramps.items()))
    report = _report(chosen, fits, trains, scales, x_min, x_max, g_min, g_max, variation, resolved)
    replayed = replay(weight, trains, lambda x: (x - x_min) / span, ref_v, ref_t)
    report["replay_nrmse"] = [replayed[p]["nrmse"] for p in report.index]
    reasons = gate_reasons(weight, op, phases, (x_min, x_max), reached, variation.read_noise, replayed, log)
    sym = symmetry_point(weight, op)
    provenance = _provenance(measurements, base, report, sym, amp_known.any(), np.isfinite(widths).any())
    provenance.update(replay={p: {"nrmse": replayed[p]["nrmse"]} for p in phases} | {
        "nrmse": max(replayed[p]["nrmse"] for p in phases)}, gate="failed" if reasons else "passed",
        gate_reasons=reasons, branch=branch, scale="log" if log else "linear")
    if ramps:
        provenance["assumptions"][0] = (f"{' and '.join(ramps)} switching kinetics from the measured ramp (activation "
                                        f"voltage; beta of {base.name!r}); the rest of the kinetics, retention and "
                                        f"transfer curve from base model {base.name!r}")
    if branch != "both":
        other = "LTD" if branch == "ltp" else "LTP"
        provenance["assumptions"].append(f"{other} step curve and kinetics from base model {base.name!r} (--branch {branch})")
    model = ChipModel(
        name=name or f"fit-{measurements[0].path.stem}", weight=weight, operating_point=op,
        description=f"Fitted by labctl from {len(measurements)} file(s), {report.n_trains.sum()} trains.",
        provenance=provenance)
    return FitResult(model, report, chosen, fits, trains, measurements, decisions=decisions, gate=reasons,
                     replayed=replayed, axis=(x_min, x_max, g_ref if log else None))


def _replay_score(result: FitResult) -> float:
    """Replay error of a fit on a common footing, whatever its axis: the RMS of the replayed minus the
    measured mean trace as a fraction of the measured range, on linear G plus on ln G."""
    w = result.model.weight
    total = 0.0
    for phase, rep in result.replayed.items():
        measured = result.to_conductance(result.trains[phase].mean()[0])
        replayed = conductance(rep["replayed"], w.g_min_s, w.g_max_s, w.conductance_scale == "log")
        for f in (lambda x: x, np.log):
            a, b = f(measured), f(replayed)
            ok = np.isfinite(a) & np.isfinite(b)
            total += float(np.sqrt(np.mean((a[ok] - b[ok]) ** 2)) / np.ptp(a[ok])) if ok.any() else np.inf
    return total


def check_widths(widths: np.ndarray, path) -> None:
    """Refuse pulse widths no instrument applies (a B1500: SPGU 10 ns up to SMU pulsed mode 2 s)."""
    if widths.size and (widths.min() < MIN_WIDTH_S or widths.max() > MAX_WIDTH_S):
        bad = widths.min() if widths.min() < MIN_WIDTH_S else widths.max()
        raise DataError(f"{path}: pulse width {bad:g} s: no instrument applies it (a B1500 applies "
                        f"{MIN_WIDTH_S:g} s with its SPGU up to {MAX_WIDTH_S:g} s in SMU pulsed mode); "
                        "check the width column, --width-s or the header's unit")


def _phases_to_fit(table: pd.DataFrame, branch: str, path, base_name: str) -> tuple[tuple[str, ...], list[str]]:
    """The phases a fit uses, and what it decided about them."""
    found = [p for p in PHASES if (table.phase == p).any()]
    if branch != "both":
        p = branch.upper()
        if p not in found:
            raise DataError(f"{path}: --branch {branch}: no {p} train found (the file has {' and '.join(found)})")
        other = "LTD" if p == "LTP" else "LTP"
        ignored = f"; the file's {other} trains are left out" if other in found else ""
        return (p,), [f"branch: {p} fitted; {other} from base model {base_name!r} (--branch {branch}){ignored}"]
    if len(found) < 2:
        only = found[0]
        raise DataError(f"{path}: only {only} trains found: fit one branch with --branch {only.lower()} (the other "
                        "comes from the base model), or check --amplitude-col and --polarity")
    return PHASES, ["branch: both LTP and LTD fitted"]


def _choose_scale(table: pd.DataFrame, scale: str) -> tuple[bool, str]:
    """(log axis?, why): the option, or auto: log when a train spans more than a decade."""
    if scale not in SCALES:
        raise DataError(f"scale={scale!r}: choose one of {', '.join(SCALES)}")
    g = table.groupby("segment").conductance_s
    decades = float(np.log10((g.max() / g.min()).max()))
    if scale != "auto":
        return scale == "log", f"--scale {scale}; widest train spans {decades:.2f} decades"
    return decades > 1.0, f"auto: widest train spans {decades:.2f} decades{'' if decades > 1 else ' (<= 1)'}"


def _base_side(side: PolarityParams, base: DeviceParams, ref_v: float, ref_t: float) -> PolarityParams:
    """A base model's polarity, unchanged at every pulse under the fitted model's reference pulse."""
    if side.shape.kind != "polynomial":
        return side  # a power step does not depend on the reference pulse
    from ..physics import switched_fraction

    factor = float(switched_fraction(side.kinetics, ref_v, ref_t)
                   / switched_fraction(side.kinetics, base.reference_amplitude_v, base.reference_width_s))
    coeffs = tuple(c * factor for c in side.shape.coefficients)
    return PolarityParams(side.kinetics, dataclasses.replace(side.shape, coefficients=coeffs))


def save_fit(result: FitResult, out_json_path: str | Path, force: bool = False) -> list[Path]:
    """Write the model JSON (atomically) and PNG plots of data vs fit next to it; return the paths.

    A model that fails the gate (``result.gate``) is refused with the reasons unless ``force`` (it is
    then written with ``"gate": "failed"`` in its provenance).
    """
    from ..plotstyle import plots_wanted
    from .plots import save_plots

    if result.gate and not force:
        raise DataError(f"the fitted model fails the gate, nothing written: {'; '.join(result.gate)} "
                        "(--force writes it anyway, marked \"gate\": \"failed\")")
    out = Path(out_json_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".json", dir=out.parent)
    os.close(fd)
    try:
        save_model(result.model, tmp)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return [out, *(save_plots(result, out.with_suffix("")) if plots_wanted() else [])]


def symmetry_point(weight: DeviceParams, op: OperatingPoint) -> float:
    """Normalised state where one LTP and one LTD pulse of the operating point cancel (stable crossing)."""
    g = np.linspace(0.0, 1.0, 2001)
    ref = (weight.reference_amplitude_v, weight.reference_width_s)
    net = (pulse_step(weight.potentiation, True, g, op.amplitude_v(True), op.write_width_s, *ref)
           - pulse_step(weight.depression, False, g, op.amplitude_v(False), op.write_width_s, *ref))
    down = np.flatnonzero((net[:-1] > 0) & (net[1:] <= 0))
    if down.size == 0:
        return 1.0 if net[len(g) // 2] > 0 else 0.0
    i = down[0]
    return float(g[i] + (g[i + 1] - g[i]) * net[i] / (net[i] - net[i + 1]))


def _polarity_params(fit: StepFit, kin: Kinetics, ref_v: float, ref_t: float) -> PolarityParams:
    """The fitted step as model parameters: polynomial as is, power with kinetics rescaled to its step."""
    if fit.kind == "polynomial":
        return PolarityParams(kinetics=kin, shape=fit.shape)
    from ..physics import switched_fraction

    base_fraction = float(switched_fraction(kin, ref_v, ref_t))
    w_max = kin.w_max * fit.scale / base_fraction
    if w_max <= 1.0:
        return PolarityParams(dataclasses.replace(kin, w_max=w_max), fit.shape)
    # a step larger than the base kinetics allow: saturate w_max and move the attempt time instead
    x = -np.log1p(-fit.scale)
    tau = ref_t / x ** (1 / kin.beta)
    tau0 = tau / np.exp(kin.activation_v / ref_v)
    return PolarityParams(dataclasses.replace(kin, w_max=1.0, tau0_s=float(tau0)), fit.shape)


def _device_bounds(trains: dict[str, PhaseTrains], g_min: float, g_max: float):
    """Each train's own device bounds (its LTD and LTP plateaus), as (trains, 1) columns per phase.

    The simulator normalises each device by its own bounds; residuals against the global bounds
    would count the device-to-device spread of the bounds as write noise. Devices missing a phase
    use the global bound.
    """
    top = dict(zip(trains["LTP"].device, plateaus(trains["LTP"]))) if "LTP" in trains else {}
    bottom = dict(zip(trains["LTD"].device, plateaus(trains["LTD"]))) if "LTD" in trains else {}
    lo, hi = {}, {}
    for p, tr in trains.items():
        lo[p] = np.array([bottom.get(d, g_min) for d in tr.device])[:, None]
        hi[p] = np.array([top.get(d, g_max) for d in tr.device])[:, None]
        bad = hi[p] <= lo[p]
        lo[p][bad], hi[p][bad] = g_min, g_max
    return lo, hi


def _combine(measurements: list[Measurement]) -> pd.DataFrame:
    tables, offset = [], 0
    for k, ms in enumerate(measurements):
        t = ms.table.copy()
        t["device"] = f"{k}:" + t.device.astype(str)
        t["segment"] = t.segment + offset
        offset = int(t.segment.max()) + 1
        tables.append(t)
    return pd.concat(tables, ignore_index=True)


def _saturates(trace: np.ndarray) -> bool:
    """Whether a mean trace levels off toward its bound: its last fifth moves < 30 % as far as its first fifth."""
    trace = trace[np.isfinite(trace)]
    k = max(2, len(trace) // 5)
    return bool(abs(trace[-1] - trace[-1 - k]) < 0.3 * abs(trace[k] - trace[0]))


def _report(chosen, fits, trains, scales, x_min, x_max, g_min, g_max, variation: Variation,
            resolved: dict) -> pd.DataFrame:
    rows = {}
    for p, lam in zip(trains, scales):
        fit, tr = chosen[p], trains[p]
        g = tr.normalised(x_min, x_max)
        pred = fit.predict(tr.ratios, np.clip(g[:, 0], 0, 1))
        rows[p] = {
            "model": fit.name,
            "aic_poly5": fits[p]["polynomial"].aic, "aic_soft_bounds": fits[p]["power"].aic,
            "nrmse_mean": fit.nrmse, "nrmse_readings": float(np.sqrt(np.nanmean((pred - g) ** 2))),
            "g_min_s": float(g_min), "g_max_s": float(g_max), "c2c_write": variation.c2c_write,
            "c2c_source": resolved["sources"]["c2c"], "d2d_bounds": variation.d2d_bounds,
            "d2d_bounds_source": resolved["sources"]["d2d_bounds"],
            "read_noise": variation.read_noise, "d2d_step": variation.d2d_step,
            "d2d_step_source": resolved["sources"]["d2d_step"],
            "bound": ("asymptote" if resolved[p] else "extrapolated (no saturation: run longer trains)"),
            "n_trains": int(g.shape[0]), "n_pulses": int(np.isfinite(g).sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _provenance(measurements, base: ChipModel, report: pd.DataFrame, sym: float, amp_known: bool,
                width_known: bool) -> dict:
    assumptions = [f"switching kinetics, retention and transfer curve from base model {base.name!r}",
                   "d2d of the nonlinearity not estimated (0)"]
    if not report["c2c_source"].eq("fit").all():
        assumptions.append(f"c2c write noise not resolved under the read noise: value of {base.name!r}")
    for phase, bound in (("LTP", "Gmax"), ("LTD", "Gmin")):
        if phase in report.index and report.loc[phase, "bound"] != "asymptote":
            assumptions.append(f"{phase} trains do not saturate: {bound} is extrapolated (longer trains fix it)")
    for name, column in (("step", "d2d_step_source"), ("bounds", "d2d_bounds_source")):
        if (why := why_borrowed(report[column].iloc[0])) is not None:
            assumptions.append(f"d2d {name} spread not resolved ({why}): value of {base.name!r}")
    if not amp_known:
        assumptions.append(f"no amplitude column: reference amplitude of {base.name!r}")
    if not width_known:
        assumptions.append(f"no width column: reference width of {base.name!r}")
    return {
        "kind": "fit",
        "files": [{"path": str(ms.path), "sha256": ms.sha256, "polarity": ms.polarity,
                   "metadata": ms.metadata} for ms in measurements],
        "fit_date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "fit_quality": {p: {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                        for p, row in report.to_dict(orient="index").items()},
        "method": "bounds: soft-bounds asymptotes of the mean traces (each device's first train per phase); "
                  "steps: poly5 vs soft bounds fitted to G vs pulse number, chosen by AIC; ramps: the branch's "
                  "activation voltage fitted to its ramp (device_models.fitting.ramps)",
        "base_model": base.name,
        "symmetry_point": sym,
        "assumptions": assumptions,
    }
