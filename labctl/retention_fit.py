"""``labctl fit FILE --kind retention``: a retention log -> the fitted law, a projection with its interval,
a JSON (``retention_fit``) and a PNG on log time. ``labctl fit ... --retention r.json`` then gives a
pulse-fitted model this measured retention."""

from __future__ import annotations

import json
from pathlib import Path

from labctl.atomic import replacing
from labctl.errors import ConfigError


def fit_retention_file(files: list[Path], out: Path, project_s: float | None = None, **options) -> None:
    """Fit one retention file, print what was decided and found, write ``out`` and ``out``'s PNG."""
    from rich.console import Console
    from rich.table import Table

    from device_models.fitting.retention import TEN_YEARS_S, fit_retention
    from device_models.fitting.retention_file import load_retention
    from device_models.fitting.retention_plot import save_retention_plot
    from device_models.plotstyle import plots_wanted

    if len(files) != 1:
        raise ConfigError(f"--kind retention fits one file at a time, got {len(files)}")
    data = load_retention(files[0], **{k: v for k, v in options.items() if v is not None})
    fit = fit_retention(data.time_s, data.conductance_s, TEN_YEARS_S if project_s is None else project_s, data.dropped)
    console = Console(highlight=False, soft_wrap=True)
    for line in data.decisions:
        console.print(line, markup=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {"kind": "retention", "file": str(data.path), "sha256": data.sha256, "decisions": data.decisions,
                "retention_fit": fit.to_json()}
    with replacing(out) as tmp:
        tmp.write_text(json.dumps(document, indent=2) + "\n")
    written = [out, *([save_retention_plot(fit, out.with_suffix(".png"))] if plots_wanted() else [])]

    table = Table("parameter", "value", "std. error", title=f"retention fit: {fit.law} law, {fit.n_points} readings")
    for name, v in fit.parameters.items():
        table.add_row(name, f"{v['value']:.4g}", f"{v['stderr']:.2g}")
    table.add_row("nRMSE (of the readings' range)", f"{fit.nrmse:.4f}", "")
    table.add_row("rows dropped", str(sum(fit.dropped.values())), "")
    console.print(table)
    p = fit.projection
    console.print(f"projection at {p['time_s']:.4g} s: {p['g_s']:.4g} S, 95 % interval [{p['g_low_s']:.4g}, "
                  f"{p['g_high_s']:.4g}] S ({100 * (p['g_high_s'] - p['g_low_s']) / max(p['g_s'], 1e-300):.0f} % "
                  f"of the projection); G(0) {fit.parameters['g0_s']['value']:.4g} S")
    console.print(f"wrote {', '.join(map(str, written))}")
