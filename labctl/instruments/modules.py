"""B1500A plug-in modules: what each model is and the most it can source, from the data sheets.

The ratings are the ceilings of a bench file's ``limits`` (``labctl.benchfile``) and what the simulated
B1500 refuses, so a limit wider than the installed module is an error before anything is sent.
Numbers: Keysight B1500A data sheet (SMU output ranges; SPGU into 50 ohm, BENCH.md), DC values only
(the MCSMU's 1 A is pulsed, its DC range ends at 100 mA).
"""

from __future__ import annotations

from dataclasses import dataclass

from labctl.errors import InstrumentError, field_error


@dataclass(frozen=True)
class ModuleRating:
    """What one module model is and the largest DC output it can force."""

    kind: str
    """``SMU``, ``SPGU`` or ``CMU``."""
    name: str
    """The data sheet's short name (HRSMU, SPGU, ...)."""
    max_v: float
    """Largest output voltage magnitude in V."""
    max_a: float
    """Largest DC output current (SMU compliance) magnitude in A."""


MODULES = {
    "B1510A": ModuleRating("SMU", "HPSMU", 200.0, 1.0),
    "B1511A": ModuleRating("SMU", "MPSMU", 100.0, 0.1),
    "B1511B": ModuleRating("SMU", "MPSMU", 100.0, 0.1),
    "B1514A": ModuleRating("SMU", "MCSMU", 30.0, 0.1),
    "B1517A": ModuleRating("SMU", "HRSMU", 100.0, 0.1),
    "B1520A": ModuleRating("CMU", "MFCMU", 25.0, 0.0),
    "B1525A": ModuleRating("SPGU", "SPGU", 20.0, 0.8),
}
"""Module model -> rating; the models a bench file may declare."""


def base_model(reported: str) -> str:
    """The module model of a ``UNT?`` entry: ``B1520A/N1301A`` (a CMU with its adapter) -> ``B1520A``."""
    return reported.split("/")[0].strip()


def same_model(declared: str, reported: str | None) -> bool:
    """True if the mainframe's ``reported`` model is the ``declared`` one (an accessory suffix is allowed)."""
    return reported is not None and base_model(reported) == declared


def rating(model: str) -> ModuleRating:
    """The rating of ``model`` (``UNT?`` spelling accepted); ``InstrumentError`` for a model not listed."""
    try:
        return MODULES[base_model(model)]
    except KeyError:
        raise field_error(InstrumentError, "b1500 module", model, f"not one of {sorted(MODULES)}") from None


def models_of(kind: str) -> frozenset[str]:
    """The models of one kind (``SMU``, ``SPGU``, ``CMU``)."""
    return frozenset(m for m, r in MODULES.items() if r.kind == kind)
