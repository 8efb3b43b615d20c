"""Schottky energy per pulse against the hand-computed value of SCIENCE.md (V = 1 V)."""

from __future__ import annotations

import pytest

from device_models.energy import barrier_lowering_ev, pulse_energy_j, schottky_current_a


def test_hand_computed_value_at_one_volt():
    # dPhi = sqrt(q * (1 V / 5 nm) / (4 pi eps0 * 18.2)) = 0.1257 eV
    # J = 3e-4 * 300^1.5 * (1 V / 5e-7 cm) * 8.9e-3 * exp(-(0.19 - 0.1257) / 0.025852) = 2.315e3 A/cm^2
    # I = J * 4e-8 cm^2 = 92.6 uA;  E = I * 1 V * 20 ns = 1.85 pJ
    assert barrier_lowering_ev(1.0) == pytest.approx(0.126, abs=0.0005)
    assert schottky_current_a(1.0) == pytest.approx(92.6e-6, rel=0.005)
    assert pulse_energy_j(1.0, 20e-9) == pytest.approx(1.85e-12, rel=0.005)


def test_energy_scales_with_width_and_is_polarity_blind():
    assert pulse_energy_j(-1.0, 200e-9) == pytest.approx(10 * pulse_energy_j(1.0, 20e-9))
