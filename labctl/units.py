"""Numbers for people: SI prefixes and a few significant digits (``2e-06, "s"`` -> ``"2 us"``).

The files keep full precision in SI units; what the console prints goes through :func:`si`.
"""

from __future__ import annotations

import math

PREFIXES = {-15: "f", -12: "p", -9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G"}
"""Engineering prefixes; ``u`` for micro (plain ASCII, as the procedures' parameter units)."""


def si(value, unit: str = "", digits: int = 3) -> str:
    """``value`` with an SI prefix and ``digits`` significant digits; non-numbers as ``str``.

    >>> si(2e-06, "s"), si(3.4133, "V"), si(0.0, "S"), si(12345.0), si(1234, "", 4)
    ('2 us', '3.41 V', '0 S', '12.3 k', '1.234 k')
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return f"{value} {unit}".rstrip()
    if value == 0:
        return f"0 {unit}".rstrip()
    exponent = min(max(3 * math.floor(math.log10(abs(value)) / 3), -15), 9)
    scaled = float(f"{value / 10 ** exponent:.{digits}g}")
    if abs(scaled) >= 1000 and exponent < 9:  # rounding carried into the next prefix (999.96 -> 1000)
        exponent, scaled = exponent + 3, float(f"{scaled / 1000:.{digits}g}")
    return f"{scaled:g} {PREFIXES[exponent]}{unit}".rstrip()
