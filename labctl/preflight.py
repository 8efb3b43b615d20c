"""Preflight of a bench run: what a chip model's operating point will send, checked against the bench
file's limits and routing before any instrument is opened.

``labctl run`` gets the same from its estimate (the procedure's own preflight on a simulated copy of
the bench); ``labctl train`` sends one write pulse shape and one read, so checking them here refuses
a pulse the bench cannot send (a 20 ns width through the switch matrix) before a relay moves.
"""

from __future__ import annotations

from device_models.params import ChipModel

from .errors import SafetyLimitError
from .specs import PulseSpec, ReadSpec


def check_operating_point(spec: str, model: ChipModel) -> None:
    """Raise ``SafetyLimitError`` naming the model if its write pulses or read break bench ``spec``'s limits.

    ``sim`` has no bench: nothing to check beyond what its backend checks.
    """
    if spec == "sim":
        return
    from .backends import SIM_BENCH_FILE
    from .benchfile import load_bench

    limits = load_bench(SIM_BENCH_FILE if spec == "sim-instruments" else spec).limits
    op = model.operating_point
    try:
        for amplitude in (op.write_amplitude_v, -op.write_amplitude_v):
            PulseSpec(amplitude, op.write_width_s, limits=limits)
        ReadSpec(voltage_v=op.read_v, limits=limits)
    except SafetyLimitError as exc:
        raise SafetyLimitError(f"model {model.name}: its operating point cannot be sent on {spec}: {exc}") from None
