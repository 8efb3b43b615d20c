"""``Population``: devices of one kind on a simulated array, with the parameters drawn for each device."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from device_models import physics
from device_models.params import DeviceParams


@dataclass
class Population:
    """Devices of one kind (weight or sparsity) with their per-device parameters (flat arrays)."""

    params: DeviceParams
    index: np.ndarray
    g_min: np.ndarray
    g_max: np.ndarray
    up_scale: np.ndarray
    down_scale: np.ndarray
    up_exponent: np.ndarray
    down_exponent: np.ndarray

    @classmethod
    def draw(cls, params: DeviceParams, index: np.ndarray, rng: np.random.Generator) -> Population:
        var, n = params.variation, index.size
        g_min = params.g_min_s * (1 + var.d2d_bounds * rng.standard_normal(n))
        g_max = params.g_max_s * (1 + var.d2d_bounds * rng.standard_normal(n))
        g_min = np.clip(g_min, 0.05 * params.g_min_s, None)
        g_max = np.maximum(g_max, g_min * 1.01)
        scales = np.exp(var.d2d_step * rng.standard_normal((2, n)) - var.d2d_step**2 / 2)
        exps = [side.shape.exponent * np.clip(1 + var.d2d_nonlinearity * rng.standard_normal(n), 0.1, None)
                for side in (params.potentiation, params.depression)]
        return cls(params, index, g_min, g_max, scales[0], scales[1], exps[0], exps[1])

    def pulse_train(self, g: np.ndarray, counts: np.ndarray, amplitude_v: float, width_s: float,
                    scale: np.ndarray, exponent: np.ndarray, rng) -> np.ndarray:
        """States of members in state ``g`` after ``counts`` pulses, given their drawn ``scale`` and
        ``exponent`` of the pulse's polarity (the simulator gathers them with the rest of each device's row)."""
        up = amplitude_v > 0
        side = self.params.potentiation if up else self.params.depression
        return physics.pulse_train(side, up, g, counts, amplitude_v, width_s, self.params.reference_amplitude_v,
                                   self.params.reference_width_s, scale,
                                   exponent if side.shape.kind == "power" else None,
                                   self.params.variation.c2c_write, rng)
