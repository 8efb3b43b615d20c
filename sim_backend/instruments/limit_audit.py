"""The limit audit from the instrument side: did anything the fakes put on the chip exceed the limits?

The drivers and ``HardwareArray`` check every request before sending; this checks what actually
arrived (:attr:`BenchWorld.outputs`), so a bug anywhere between the check and the instrument shows up.
"""

from __future__ import annotations

from labctl.specs import SafetyLimits

from .world import Output

TOLERANCE = 1e-9
"""Relative slack for float round trips through the ASCII commands (``%.6g``-style formatting)."""


def violations(outputs: list[Output], limits: SafetyLimits) -> list[str]:
    """One readable line per output that exceeded ``limits`` (empty: none did)."""
    def over(value: float, bound: float) -> bool:
        return value > bound * (1 + TOLERANCE)

    out = []
    for k, o in enumerate(outputs):
        if o.kind == "pulse":
            checks = [("amplitude", o.level_v, limits.max_write_v, over(o.level_v, limits.max_write_v)),
                      ("width", o.width_s, limits.max_width_s, over(o.width_s, limits.max_width_s)),
                      ("width", o.width_s, limits.min_width_s, over(limits.min_width_s, o.width_s)),
                      ("count", o.count, limits.max_pulse_count, o.count > limits.max_pulse_count)]
            for name in ("rise_s", "fall_s"):
                edge = getattr(o, name)
                checks.append((name, edge, limits.max_edge_s, over(edge, limits.max_edge_s)))
                checks.append((name, edge, limits.min_edge_s, over(limits.min_edge_s, edge)))
        else:
            bound = {"read": limits.max_read_v, "gate": limits.max_gate_v, "drain": limits.max_drain_v}[o.kind]
            checks = [("level_v", o.level_v, bound, over(o.level_v, bound))]
        out += [f"output {k} ({o.kind}): {name} {value!r} beyond limit {bound!r}"
                for name, value, bound, bad in checks if bad]
    return out
