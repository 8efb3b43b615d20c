"""The PyTorch adapter gives torch what the numpy engine computes, and trains through labctl's update rules.

Runs where torch is installed (the adapter is an optional extra; ``make test`` does not install it).
"""

from __future__ import annotations

import numpy as np
import pytest

from labctl.errors import ConfigError
from labctl.training import Network, Optimizer, device_steps
from labctl.training.network import softmax_cross_entropy

torch = pytest.importorskip("torch")
from labctl.training.pytorch import AnalogLinear, AnalogOptimizer  # noqa: E402  (needs torch)


def _blobs(n: int, features: int = 16, classes: int = 4, seed: int = 0):
    """Separable classes: a prototype per class plus noise, in [0, 1]."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((classes, features))
    y = rng.integers(0, classes, n)
    x = np.clip(prototypes[y] + 0.15 * rng.standard_normal((n, features)), 0, 1).astype(np.float32)
    return x, y


def test_forward_and_gradients_equal_the_numpy_engine():
    x, y = _blobs(32)
    numpy_layers = [AnalogLinear.simulated(16, 8, seed=3).layer, AnalogLinear.simulated(8, 4, seed=4).layer]
    torch_net = torch.nn.Sequential(AnalogLinear.simulated(16, 8, seed=3), torch.nn.ReLU(),
                                    AnalogLinear.simulated(8, 4, seed=4))
    loss_np, grads_np = Network(numpy_layers).loss_and_gradients(x, y)
    logits = torch_net(torch.from_numpy(x))
    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
    loss.backward()
    assert float(loss.detach()) == pytest.approx(loss_np, rel=1e-5)  # same seeds: the same read noise
    for module, (grad_w, grad_b) in zip((torch_net[0], torch_net[2]), grads_np):
        np.testing.assert_allclose(module.grads[0], grad_w, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(module.grads[1], grad_b, rtol=1e-4, atol=1e-7)


def test_a_step_pulses_the_devices_as_labctls_rule_does():
    x, y = _blobs(32)
    reference = AnalogLinear.simulated(16, 4, seed=5).layer
    module = AnalogLinear.simulated(16, 4, seed=5)
    _, grads = Network([reference]).loss_and_gradients(x, y)
    Optimizer("sgd", [reference], 0.2, device_steps(reference.model), 15, np.random.default_rng(0)).step(grads)
    opt = AnalogOptimizer([module], algo="sgd", lr=0.2, seed=0)
    module.layer.forward(x)  # the same reads as the reference's forward pass (the chips' noise streams stay in step)
    module.grads = grads[0]
    pulses = opt.step()
    assert pulses > 0 and opt.pulses == pulses and opt.energy_j > 0
    np.testing.assert_array_equal(module.layer.w, reference.w)
    assert module.grads is None  # cleared for the next batch


@pytest.mark.parametrize("algo", ["sgd", "mpsgd", "symshift"])
def test_a_torch_model_learns_on_the_simulated_chip(algo):
    x, y = _blobs(600)
    net = torch.nn.Sequential(AnalogLinear.simulated(16, 12, seed=1), torch.nn.ReLU(),
                              AnalogLinear.simulated(12, 4, seed=2))
    opt = AnalogOptimizer([net[0], net[2]], algo=algo, lr=0.5, seed=0)
    inputs, labels = torch.from_numpy(x), torch.from_numpy(y)
    with torch.no_grad():
        before = float(torch.nn.functional.cross_entropy(net(inputs), labels))
    for _ in range(3):
        for start in range(0, len(x), 50):
            loss = torch.nn.functional.cross_entropy(net(inputs[start:start + 50]), labels[start:start + 50])
            loss.backward()
            opt.step()
    with torch.no_grad():
        logits = net(inputs)
    after = float(torch.nn.functional.cross_entropy(logits, labels))
    accuracy = float((logits.argmax(dim=1) == labels).float().mean())
    assert after < 0.7 * before and accuracy > 0.6  # chance is 0.25
    assert opt.pulses > 0 and (opt.setup_pulses > 0) == (algo == "symshift")


def test_digital_layers_train_with_a_torch_optimiser_beside_the_analog_one():
    x, y = _blobs(200)
    digital = torch.nn.Linear(16, 12)
    analog = AnalogLinear.simulated(12, 4, seed=2)
    net = torch.nn.Sequential(digital, torch.nn.ReLU(), analog)
    assert list(net.parameters()) == list(digital.parameters())  # the devices' weights are not torch's
    sgd, pulses = torch.optim.SGD(digital.parameters(), lr=0.1), AnalogOptimizer([analog], algo="mpsgd")
    before = digital.weight.detach().clone()
    loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()  # the analog layer passes dL/dx back to the digital one
    sgd.step()
    pulses.step()
    assert not torch.equal(digital.weight, before)
    assert analog.weight.shape == (4, 12) and analog.bias.shape == (4,)


def test_any_leading_shape_and_dtype_like_nn_linear():
    module = AnalogLinear.simulated(6, 3)
    for shape in [(6,), (2, 5, 6)]:
        x = torch.rand(shape, dtype=torch.float64, requires_grad=True)
        y = module(x)
        assert y.shape == (*shape[:-1], 3) and y.dtype == torch.float64
        y.sum().backward()
        assert x.grad.shape == x.shape and x.grad.dtype == torch.float64
        module.grads = None


def test_clear_errors():
    module = AnalogLinear.simulated(4, 2)
    with pytest.raises(ConfigError, match="algo"):
        AnalogOptimizer([module], algo="float")
    with pytest.raises(ConfigError, match="AnalogLinear"):
        AnalogOptimizer([torch.nn.Linear(4, 2)])
    with pytest.raises(ConfigError, match="backward"):
        AnalogOptimizer([module]).step()


def test_the_loss_gradient_matches_the_engines_softmax():
    """torch's cross-entropy and the engine's agree, so the two paths see the same error signal."""
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((8, 5)).astype(np.float32), rng.integers(0, 5, 8)
    loss, delta = softmax_cross_entropy(logits, labels)
    t = torch.from_numpy(logits).requires_grad_()
    torch.nn.functional.cross_entropy(t, torch.from_numpy(labels)).backward()
    np.testing.assert_allclose(t.grad.numpy(), delta, rtol=1e-5, atol=1e-7)
