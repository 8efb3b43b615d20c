"""Parameter dataclasses of the FeFET device model, with units, documentation and validation.

The state of a device is its normalised polarisation ``g`` in [0, 1]; its read conductance is
``g_min_s + g * (g_max_s - g_min_s)`` (or log-scaled for digital devices). A write pulse moves ``g`` by a step whose size depends on the
state (``StepShape``), on the pulse amplitude and width (``Kinetics``, nucleation-limited switching
with Merz's law) and on the polarity. Everything here is data: presets and fitted models are JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from .errors import ModelError, field_error


def _check(owner: object, positive: tuple[str, ...] = (), unit: tuple[str, ...] = (),
           nonneg: tuple[str, ...] = ()) -> None:
    """Check every float field is finite; the named ones > 0, in [0, 1], or >= 0."""
    name = type(owner).__name__
    for f in fields(owner):
        value = getattr(owner, f.name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise field_error(ModelError, f"{name}.{f.name}", value, "must be finite")
    for key in positive:
        if getattr(owner, key) <= 0:
            raise field_error(ModelError, f"{name}.{key}", getattr(owner, key), "must be > 0")
    for key in unit:
        if not 0 <= getattr(owner, key) <= 1:
            raise field_error(ModelError, f"{name}.{key}", getattr(owner, key), "must be within [0, 1]")
    for key in nonneg:
        if getattr(owner, key) < 0:
            raise field_error(ModelError, f"{name}.{key}", getattr(owner, key), "must be >= 0")


@dataclass(frozen=True)
class Kinetics:
    """How much of the remaining switchable polarisation one pulse switches (NLS model, Merz's law).

    ``fraction(V, t) = w_max * (1 - exp(-(t / tau(V)) ** beta))`` with
    ``tau(V) = tau0_s * exp(activation_v / |V|)``: a shorter pulse needs a higher amplitude for the
    same step, and a half-selected device (V/2) barely moves.
    """

    w_max: float = 0.5
    """Largest fraction of the remaining range one pulse can switch (dimensionless, 0..1)."""
    tau0_s: float = 1e-12
    """Attempt time of Merz's law in s."""
    activation_v: float = 20.0
    """Activation voltage of Merz's law in V (the device's, not the field's, scale)."""
    beta: float = 0.5
    """Stretch exponent of the switching time distribution (dimensionless)."""

    def __post_init__(self) -> None:
        _check(self, positive=("w_max", "tau0_s", "activation_v", "beta"), unit=("w_max",))


@dataclass(frozen=True)
class StepShape:
    """State dependence of the step: ``kind`` "power" or "polynomial".

    power: ``step = fraction(V, t) * (1 - g) ** exponent`` for potentiation and
    ``fraction(V, t) * g ** exponent`` for depression (soft bounds; ``exponent`` is the nonlinearity).
    polynomial: ``step = fraction(V, t) / fraction(V_ref, t_ref) * sum(c_k g^k)``, clipped at 0: the
    papers' 5th-degree fits of dG vs G (normalised units) measured at the reference pulse, as in
    aihwkit's PiecewiseStepDevice.
    """

    kind: str = "power"
    """"power" (physics presets) or "polynomial" (fitted models)."""
    exponent: float = 1.0
    """Nonlinearity exponent of the power shape (dimensionless; 1 = linear soft bounds)."""
    coefficients: tuple[float, ...] = ()
    """Polynomial coefficients, lowest order first, of the step in normalised units."""

    def __post_init__(self) -> None:
        if self.kind not in ("power", "polynomial"):
            raise field_error(ModelError, "StepShape.kind", self.kind, 'must be "power" or "polynomial"')
        object.__setattr__(self, "coefficients", tuple(float(c) for c in self.coefficients))
        _check(self, positive=("exponent",))
        if self.kind == "polynomial" and not self.coefficients:
            raise field_error(ModelError, "StepShape.coefficients", self.coefficients, "a polynomial needs coefficients")
        if not all(math.isfinite(c) for c in self.coefficients):
            raise field_error(ModelError, "StepShape.coefficients", self.coefficients, "must be finite")


@dataclass(frozen=True)
class PolarityParams:
    """Response to write pulses of one polarity (potentiation or depression)."""

    kinetics: Kinetics = field(default_factory=Kinetics)
    """Amplitude and width dependence of the step."""
    shape: StepShape = field(default_factory=StepShape)
    """State dependence of the step."""


@dataclass(frozen=True)
class Variation:
    """Device-to-device (d2d, fixed per device) and cycle-to-cycle (c2c, per pulse) variability."""

    d2d_bounds: float = 0.05
    """Relative std of each device's g_min and g_max (dimensionless)."""
    d2d_step: float = 0.05
    """Relative std (lognormal) of each device's step scale, per polarity (dimensionless)."""
    d2d_nonlinearity: float = 0.05
    """Relative std of each device's power-shape exponent (dimensionless)."""
    c2c_write: float = 0.10
    """Relative std of each pulse's step around its mean (seed 000: 10 % write noise)."""
    read_noise: float = 0.0425
    """Relative std of one conductance reading (seed 000: 4.25 % read noise)."""

    def __post_init__(self) -> None:
        _check(self, nonneg=tuple(f.name for f in fields(self)))


@dataclass(frozen=True)
class Retention:
    """Relaxation of the stored state toward ``relaxed_state`` after programming (power law, Arrhenius).

    ``g(t) = g_relaxed + (g_0 - g_relaxed) * (1 + t / t0_s) ** -nu(T)`` with
    ``nu(T) = nu_ref * exp(activation_ev / k_B * (1/T_ref - 1/T))``.
    """

    relaxed_state: float = 0.5
    """Normalised state the polarisation relaxes toward (dimensionless, 0..1)."""
    nu_ref: float = 0.004
    """Decay exponent at ``t_ref_k`` (dimensionless)."""
    t0_s: float = 1.0
    """Onset time of the power-law decay in s."""
    activation_ev: float = 0.3
    """Activation energy of the decay rate in eV."""
    t_ref_k: float = 300.0
    """Reference temperature of ``nu_ref`` in K."""
    rewrite_threshold: float = 1e-3
    """Smallest state change (normalised) that restarts the relaxation clock; a weaker disturb,
    such as a half-selected V/2 pulse, does not rejuvenate the stored state."""

    def __post_init__(self) -> None:
        _check(self, positive=("t0_s", "t_ref_k"), unit=("relaxed_state", "rewrite_threshold"),
               nonneg=("nu_ref", "activation_ev"))


@dataclass(frozen=True)
class Transfer:
    """DC transfer curve Id(Vg) with a polarisation-dependent threshold voltage.

    ``Vth(g) = vth_erased_v - g * memory_window_v``;
    ``Id = Vd * (g_floor_s + g_on_s_per_v * S * ln(1 + exp((Vg - Vth) / S)))``, S = ss / ln 10.
    """

    vth_erased_v: float = 1.5
    """Threshold voltage of the fully depressed (g = 0) state in V."""
    memory_window_v: float = 2.0
    """Threshold shift between g = 0 and g = 1 in V."""
    subthreshold_swing_v: float = 0.25
    """Subthreshold swing in V per decade of current."""
    g_on_s_per_v: float = 2e-6
    """Channel conductance per volt of gate overdrive in S/V."""
    g_floor_s: float = 1e-13
    """Off-state leakage conductance floor in S."""
    coercive_v: float = 2.0
    """Gate voltage magnitude below which a DC sweep does not switch polarisation, in V."""

    def __post_init__(self) -> None:
        _check(self, positive=("memory_window_v", "subthreshold_swing_v", "g_on_s_per_v", "g_floor_s", "coercive_v"))


@dataclass(frozen=True)
class DeviceParams:
    """One kind of FeFET (analog weight or digital sparsity): bounds, pulse response, variability."""

    g_min_s: float
    """Conductance of the fully depressed state in S."""
    g_max_s: float
    """Conductance of the fully potentiated state in S."""
    conductance_scale: str = "linear"
    """How conductance follows the state: "linear" (analog weight devices, read above threshold) or
    "log" (``g_min (g_max/g_min)^g``: a digital device read in subthreshold, where the threshold
    shift, not the conductance, is linear in the polarisation)."""
    potentiation: PolarityParams = field(default_factory=PolarityParams)
    """Response to pulses of positive amplitude (raise G)."""
    depression: PolarityParams = field(default_factory=PolarityParams)
    """Response to pulses of negative amplitude (lower G)."""
    reference_amplitude_v: float = 3.0
    """Amplitude magnitude in V at which ``shape`` gives the step (others scale by ``kinetics``)."""
    reference_width_s: float = 1e-6
    """Width in s at which ``shape`` gives the step."""
    variation: Variation = field(default_factory=Variation)
    retention: Retention = field(default_factory=Retention)
    transfer: Transfer = field(default_factory=Transfer)

    def __post_init__(self) -> None:
        _check(self, positive=("g_min_s", "g_max_s", "reference_amplitude_v", "reference_width_s"))
        if self.conductance_scale not in ("linear", "log"):
            raise field_error(ModelError, "DeviceParams.conductance_scale", self.conductance_scale,
                              'must be "linear" or "log"')
        if self.g_min_s >= self.g_max_s:
            raise field_error(ModelError, "DeviceParams.g_min_s", self.g_min_s,
                              f"must be below g_max_s={self.g_max_s!r}")


@dataclass(frozen=True)
class OperatingPoint:
    """The write and read conditions a model is used at (training pulses, reads)."""

    write_amplitude_v: float
    """Write-pulse amplitude magnitude in V (V_LTP; LTD uses -V unless ``ltd_amplitude_v`` is set)."""
    write_width_s: float
    """Write-pulse width in s."""
    read_v: float = 0.1
    """Read voltage in V."""
    ltd_amplitude_v: float | None = None
    """LTD write-amplitude magnitude in V where it differs from ``write_amplitude_v`` (None: the same)."""
    ltp_ramp_v: tuple[float, ...] = ()
    """Measured LTP protocol: (first, last) amplitude magnitude in V of a linear ramp; empty: fixed amplitude."""
    ltd_ramp_v: tuple[float, ...] = ()
    """Measured LTD protocol, as ``ltp_ramp_v``."""

    def __post_init__(self) -> None:
        _check(self, positive=("write_amplitude_v", "write_width_s", "read_v"))
        if self.ltd_amplitude_v is not None and not (math.isfinite(self.ltd_amplitude_v) and self.ltd_amplitude_v > 0):
            raise field_error(ModelError, "OperatingPoint.ltd_amplitude_v", self.ltd_amplitude_v, "must be > 0")
        for name in ("ltp_ramp_v", "ltd_ramp_v"):
            ramp = getattr(self, name)
            if ramp and (len(ramp) != 2 or not all(math.isfinite(v) and v > 0 for v in ramp)):
                raise field_error(ModelError, f"OperatingPoint.{name}", ramp, "must be (first, last) magnitudes > 0 V")

    def amplitude_v(self, potentiate: bool) -> float:
        """Write-amplitude magnitude in V of the LTP (``potentiate``) or the LTD branch."""
        if potentiate or self.ltd_amplitude_v is None:
            return self.write_amplitude_v
        return self.ltd_amplitude_v


@dataclass(frozen=True)
class ChipModel:
    """Everything the simulator needs for a chip: weight and sparsity devices, operating point."""

    name: str
    weight: DeviceParams
    operating_point: OperatingPoint
    sparsity: DeviceParams | None = None
    """The digital sparsity FeFET; None for chips without one (every cell is then always on)."""
    sparsity_point: OperatingPoint | None = None
    """Write pulse that switches a sparsity FeFET fully on or off in one pulse."""
    description: str = ""
    provenance: dict = field(default_factory=dict)
    """Where the numbers come from: paper, data files and sha256, fit date and quality."""

    def __post_init__(self) -> None:
        if (self.sparsity is None) != (self.sparsity_point is None):
            raise field_error(ModelError, "ChipModel.sparsity_point", self.sparsity_point,
                              "a sparsity device needs its operating point, and vice versa")
