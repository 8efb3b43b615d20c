"""PyTorch adapter (optional: ``pip install torch``): analog layers inside a ``torch.nn`` model.

:class:`AnalogLinear` puts an :class:`~labctl.training.AnalogLayer` (on any ``ArrayBackend``: the
simulator, simulated instruments, a bench) into a torch model. Its forward pass is the array's
``read_mvm`` through DAC and ADC; its backward pass gives torch ``dL/dx`` through the weights as last
read from the devices and keeps ``dL/dW`` for :class:`AnalogOptimizer`, which writes it to the devices
as pulses with labctl's update rules (``sgd``, ``mpsgd``, ``symshift``) and counts them. Torch never
sets a device weight; digital layers around the analog ones train with any torch optimiser.
Tensors cross to numpy (float32, CPU) and back at each analog layer. A layer on a bench chip starts
wherever the chip was left: call :func:`labctl.training.program_mid_range` on it first, as
``labctl train`` does (``AnalogLinear.simulated`` builds its chip at mid range).

    >>> import torch
    >>> from labctl.training.pytorch import AnalogLinear, AnalogOptimizer
    >>> net = torch.nn.Sequential(AnalogLinear.simulated(16, 8), torch.nn.ReLU(), AnalogLinear.simulated(8, 4, seed=1))
    >>> opt = AnalogOptimizer([net[0], net[2]], algo="mpsgd")
    >>> loss = torch.nn.functional.cross_entropy(net(torch.rand(32, 16)), torch.randint(0, 4, (32,)))
    >>> loss.backward()
    >>> opt.step() >= 0   # pulses sent
    True
"""

from __future__ import annotations

import numpy as np
import torch

from device_models import load_model
from labctl.backends import Transactions
from labctl.errors import ConfigError, field_error

from .analog import AnalogLayer, device_steps
from .loop import simulated_layer_backend
from .optimizers import Optimizer
from .symmetry import shift_references

RULES = ("sgd", "mpsgd", "symshift")
"""Update rules that write the devices (``float`` has no devices to write)."""


class _ArrayProduct(torch.autograd.Function):
    """The analog layer's forward and backward passes as a torch function of its input.

    ``anchor`` (a scalar that requires grad) puts the output on the autograd graph even when ``x`` is
    data: the device weights are not torch parameters, but their gradient must still be computed.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, anchor: torch.Tensor, module: AnalogLinear) -> torch.Tensor:
        ctx.module = module
        ctx.inputs = x.detach().cpu().numpy().astype(np.float32, copy=False)
        return torch.from_numpy(module.layer.forward(ctx.inputs)).to(x.device, x.dtype)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        delta = grad_out.detach().cpu().numpy().astype(np.float32, copy=False)
        grad_x, grad_w, grad_b = ctx.module.layer.backward(ctx.inputs, delta, input_grad=ctx.needs_input_grad[0])
        ctx.module.keep(grad_w, grad_b)
        return (None if grad_x is None else torch.from_numpy(grad_x).to(grad_out.device, grad_out.dtype)), None, None


class AnalogLinear(torch.nn.Module):
    """``fan_in -> fan_out`` on an :class:`AnalogLayer`; its gradients wait in ``grads`` for
    :class:`AnalogOptimizer`."""

    def __init__(self, layer: AnalogLayer) -> None:
        super().__init__()
        self.layer = layer
        self.grads: tuple[np.ndarray, np.ndarray] | None = None
        """(dL/dW, dL/db) summed over the backward passes since the last optimiser step."""
        self._anchor = torch.zeros((), requires_grad=True)  # (not a parameter: torch optimisers never see it)

    @classmethod
    def simulated(cls, fan_in: int, fan_out: int, model: str = "garg-hzo-20ns", seed: int = 0,
                  **layer_options) -> AnalogLinear:
        """A layer on its own ``SimulatedArray``, as ``labctl train --backend sim`` builds each layer."""
        chip_model = load_model(model)
        chip = simulated_layer_backend(chip_model, fan_in, fan_out, seed)
        return cls(AnalogLayer(chip, chip_model, fan_in, fan_out, **layer_options))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., fan_in) -> (..., fan_out)`` like ``nn.Linear`` (leading dimensions are one batch for the array)."""
        rows = _ArrayProduct.apply(x.reshape(-1, x.shape[-1]), self._anchor, self)
        return rows.reshape(*x.shape[:-1], self.layer.fan_out)

    def keep(self, grad_w: np.ndarray, grad_b: np.ndarray) -> None:
        """Add one backward pass's gradients to ``grads``."""
        self.grads = (grad_w, grad_b) if self.grads is None else (self.grads[0] + grad_w, self.grads[1] + grad_b)

    @property
    def weight(self) -> torch.Tensor:
        """The effective weights ``(fan_out, fan_in)`` as last read from the devices (a copy, laid out as
        ``nn.Linear``'s)."""
        return torch.from_numpy((self.layer.w * self.layer.alpha).T.copy())

    @property
    def bias(self) -> torch.Tensor:
        """The digital bias (a copy)."""
        return torch.from_numpy(self.layer.bias.copy())

    def extra_repr(self) -> str:
        return f"{self.layer.fan_in}, {self.layer.fan_out}, backend={type(self.layer.backend).__name__}"


class AnalogOptimizer:
    """Writes the gradients of :class:`AnalogLinear` modules to their devices with one of labctl's rules.

    ``step()`` returns the pulses it sent; ``pulses`` and ``energy_j`` total them (``setup_pulses``: the
    symmetry protocol of ``symshift``, run once here). ``transactions``: the bench transactions of the
    modules' backends since the optimiser was made, forward reads included (see
    :class:`labctl.backends.Transactions`).
    """

    def __init__(self, modules, algo: str = "mpsgd", lr: float = 0.2, max_pulses: int = 15,
                 transfer: str = "polarity", seed: int = 0, symmetry_pairs: int = 300) -> None:
        self.modules = list(modules)
        if algo not in RULES:
            raise field_error(ConfigError, "algo", algo, f"choose one of {', '.join(RULES)}")
        if not self.modules or not all(isinstance(m, AnalogLinear) for m in self.modules):
            raise field_error(ConfigError, "modules", [type(m).__name__ for m in self.modules],
                              "must be AnalogLinear modules (train digital ones with a torch optimiser)")
        layers = [m.layer for m in self.modules]
        model = layers[0].model
        self.rule = Optimizer(algo, layers, lr, device_steps(model), max_pulses, np.random.default_rng(seed), transfer)
        self.energy_per_pulse_j = layers[0].energy_per_pulse_j
        self.pulses = self.setup_pulses = 0
        self._transactions = Transactions(layer.backend for layer in layers)
        if algo == "symshift":
            self.setup_pulses, _ = shift_references(layers, symmetry_pairs)

    def zero_grad(self) -> None:
        for module in self.modules:
            module.grads = None

    def step(self) -> int:
        """Pulse every module's kept gradients into its devices, then clear them; returns the pulses sent."""
        missing = [k for k, m in enumerate(self.modules) if m.grads is None]
        if missing:
            raise field_error(ConfigError, "modules", missing, "have no gradients: call loss.backward() first")
        pulses, _ = self.rule.step([m.grads for m in self.modules])
        self.pulses += pulses
        self.zero_grad()
        return pulses

    @property
    def transactions(self) -> int:
        return self._transactions.total

    @property
    def energy_j(self) -> float:
        """Write energy of the pulses sent by ``step`` (Schottky energy per pulse of the model's operating point)."""
        return self.pulses * self.energy_per_pulse_j
