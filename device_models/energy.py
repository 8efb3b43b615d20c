"""Write energy per pulse: modified Schottky emission current times voltage times width (seed 002).

Our reading of the printed formula (which omits the elementary charge, see SCIENCE.md):
barrier lowering ``dPhi = sqrt(q E / (4 pi eps0 eps_r))`` in V with ``E = V / d`` in V/m;
``J = alpha T^1.5 (V/d in V/cm) mu exp(-(Phi_B - dPhi) / (k_B T))`` in A/cm^2; ``I = J A``;
``E_pulse = I V t``, an upper bound on the energy one write dissipates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .params import _check
from .physics import K_B_EV

Q_C = 1.602176634e-19
"""Elementary charge in C."""
EPS0_F_PER_M = 8.8541878128e-12
"""Vacuum permittivity in F/m."""


@dataclass(frozen=True)
class SchottkyParams:
    """Modified Schottky emission through the ferroelectric stack (seed 002's values)."""

    area_cm2: float = 4e-8
    """Device area in cm^2 (4 um^2)."""
    alpha_a_s_per_cm3_k15: float = 3e-4
    """Material prefactor alpha in A s cm^-3 K^-3/2."""
    temperature_k: float = 300.0
    """Absolute temperature in K."""
    thickness_cm: float = 5e-7
    """Ferroelectric thickness d in cm (5 nm)."""
    mobility_cm2_per_vs: float = 8.9e-3
    """Carrier mobility mu in cm^2 / (V s)."""
    barrier_ev: float = 0.19
    """Schottky barrier height Phi_B in eV."""
    eps_r: float = 18.2
    """Relative permittivity of the ferroelectric."""

    def __post_init__(self) -> None:
        _check(self, positive=tuple(self.__dataclass_fields__))


def barrier_lowering_ev(voltage_v, p: SchottkyParams = SchottkyParams()):
    """Image-force barrier lowering in eV at ``voltage_v`` across the film."""
    field_v_per_m = np.abs(voltage_v) / (p.thickness_cm * 1e-2)
    return np.sqrt(Q_C * field_v_per_m / (4 * math.pi * EPS0_F_PER_M * p.eps_r))


def schottky_current_a(voltage_v, p: SchottkyParams = SchottkyParams()):
    """Current in A through the device at ``voltage_v`` (magnitude)."""
    v = np.abs(np.asarray(voltage_v, dtype=float))
    field_v_per_cm = v / p.thickness_cm
    j = (p.alpha_a_s_per_cm3_k15 * p.temperature_k**1.5 * field_v_per_cm * p.mobility_cm2_per_vs
         * np.exp(-(p.barrier_ev - barrier_lowering_ev(v, p)) / (K_B_EV * p.temperature_k)))
    return j * p.area_cm2


def pulse_energy_j(voltage_v, width_s, p: SchottkyParams = SchottkyParams()):
    """Upper bound of the energy in J one write pulse dissipates: ``I(V) * V * t``."""
    return schottky_current_a(voltage_v, p) * np.abs(voltage_v) * width_s
