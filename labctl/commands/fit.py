"""``labctl fit``: measured LTP/LTD files -> a device model JSON, a fit-quality table and PNG plots."""

from __future__ import annotations

from pathlib import Path

import typer

from labctl.errors import ConfigError


def register(app: typer.Typer) -> None:
    app.command("fit")(fit)


def fit(
    files: list[Path] = typer.Argument(None, help="Measured pulse-train files (our procedure CSV or CSV/TSV)."),
    out: Path = typer.Option(..., "--out", "-o", help="Model JSON to write; PNG plots go next to it."),
    pulse_col: str = typer.Option(None, help="Pulse-number column (a restart starts a new train)."),
    amplitude_col: str = typer.Option(None, help="Signed write-amplitude column in V."),
    conductance_col: str = typer.Option(None, help="Conductance column(s) in S, comma-separated to average."),
    resistance_col: str = typer.Option(None, help="Resistance column(s) in ohm, e.g. R_neg_ohm,R_pos_ohm."),
    current_col: str = typer.Option(None, help="Read-current column(s) in A (needs --read-voltage)."),
    width_col: str = typer.Option(None, help="Pulse-width column in s."),
    width_s: float = typer.Option(None, help="Pulse width in s when the file has no width column."),
    read_voltage: float = typer.Option(None, help="Read voltage in V."),
    polarity: str = typer.Option("auto", help="Amplitude sign that raises G: auto, positive or negative."),
    base_model: str = typer.Option("garg-hzo-2us", help="Model whose kinetics/retention/transfer the fit keeps."),
    retention: Path = typer.Option(None, "--retention", help="Retention JSON (its retention_fit, from fit_retention): "
                                   "the model's devices relax as measured instead of as the base model's."),
    runs: str = typer.Option(None, "--runs", help="Fit every complete cataloged procedure run matching this "
                             "query, e.g. \"name=ltp_ltd chip=C7 width=20e-9\" (see `labctl runs list`)."),
    pool: bool = typer.Option(False, "--pool", help="Let --runs pool runs of different pulse widths or amplitudes."),
) -> None:
    """Fit LTP/LTD step curves (poly5 vs soft bounds by AIC), bounds and noise; write a model JSON."""
    from rich.console import Console
    from rich.table import Table

    from labctl.api import fit as fit_model
    from labctl.catalog import recorded
    from labctl.catalog.fitruns import files_of_query

    selected, pooled = files_of_query(runs, pool=pool) if runs else ([], "")
    files = list(files or []) + selected
    if not files:
        raise ConfigError("give measured files or --runs QUERY")
    options = {k: v for k, v in dict(pulse_col=pulse_col, amplitude_col=amplitude_col,
                                     conductance_col=conductance_col, resistance_col=resistance_col,
                                     current_col=current_col, width_col=width_col, width_s=width_s,
                                     read_voltage=read_voltage, polarity=polarity).items() if v is not None}
    recorded_as = {"base_model": base_model, "runs": runs, "retention": str(retention) if retention else None}
    with recorded("fit", out.stem, out, extra={"parameters": {**recorded_as, **options}}):
        result = fit_model(list(files), out, base_model=base_model, retention=retention, **options)
    written = result.saved
    report = result.report
    table = Table("quantity", *report.index, title=f"fit of {len(files)} file(s)")
    rows = [("model (lower AIC)", "model", "{}"), ("nRMSE, mean trace vs fit", "nrmse_mean", "{:.4f}"),
            ("nRMSE, every reading vs fit", "nrmse_readings", "{:.4f}"), ("AIC poly5", "aic_poly5", "{:.1f}"),
            ("AIC soft bounds", "aic_soft_bounds", "{:.1f}"), ("Gmin (S)", "g_min_s", "{:.4g}"),
            ("Gmax (S)", "g_max_s", "{:.4g}"), ("c2c write noise (rel.)", "c2c_write", "{:.3f}"),
            ("c2c from", "c2c_source", "{}"),
            ("bound (LTP: Gmax, LTD: Gmin)", "bound", "{}"),
            ("read noise (rel.)", "read_noise", "{:.3f}"), ("d2d step spread (rel.)", "d2d_step", "{:.3f}"),
            ("d2d step from", "d2d_step_source", "{}"),
            ("trains", "n_trains", "{}")]
    for label, column, fmt in rows:
        table.add_row(label, *(fmt.format(v) for v in report[column]))
    console = Console()
    if pooled:
        console.print(pooled, highlight=False)
    console.print(table)
    devices = {d for tr in result.trains.values() for d in tr.device}
    v = result.model.weight.variation
    console.print(f"device-to-device spread over {len(devices)} devices in {len(files)} file(s): "
                  f"bounds {v.d2d_bounds:.4f}, step {v.d2d_step:.4f} (relative)", highlight=False)
    if retention is not None:
        r = result.model.provenance["retention"]
        console.print(f"retention from {retention}: relaxes toward {r['relaxed_state']:.3f} of the range with "
                      f"nu {r['nu']:.3g}, t0 {r['t0_s']:.3g} s ({r['law']} law)"
                      + (f"; {r['held']}" if "held" in r else ""), highlight=False)
    console.print(f"symmetry point {result.symmetry_point:.3f} of the range; wrote "
                  + ", ".join(str(p) for p in written), highlight=False)
