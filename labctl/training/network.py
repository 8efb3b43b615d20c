"""The numpy engine: a multilayer perceptron of analog or floating-point dense layers (float32, BLAS).

Hidden layers use ReLU, the output softmax with cross-entropy. Layers only need ``forward(x)``,
``backward(x, delta, input_grad)`` (``input_grad=False``: the first layer, whose input gradient
nobody uses, skips that product) and a ``bias``; :class:`DigitalLayer` is the floating-point reference that
the benchmark compares the analog layers against.
"""

from __future__ import annotations

import numpy as np


class DigitalLayer:
    """A floating-point dense layer (He-initialised), updated directly by the optimiser."""

    def __init__(self, fan_in: int, fan_out: int, rng: np.random.Generator) -> None:
        self.fan_in, self.fan_out = fan_in, fan_out
        self.w = (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        self.bias = np.zeros(fan_out, dtype=np.float32)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x @ self.w + self.bias

    def backward(self, x: np.ndarray, delta: np.ndarray,
                 input_grad: bool = True) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        return delta @ self.w.T if input_grad else None, x.T @ delta, delta.sum(axis=0)


class Network:
    """Dense layers with ReLU between them and softmax at the end."""

    def __init__(self, layers: list) -> None:
        self.layers = layers
        self._inputs: list[np.ndarray] = []
        self._masks: list[np.ndarray] = []

    def forward(self, x: np.ndarray, keep: bool = False) -> np.ndarray:
        """Logits of ``x``; ``keep`` stores what the backward pass needs."""
        self._inputs, self._masks = [], []
        for k, layer in enumerate(self.layers):
            if keep:
                self._inputs.append(x)
            x = layer.forward(x)
            if k < len(self.layers) - 1:
                mask = x > 0
                if keep:
                    self._masks.append(mask)
                x = x * mask
        return x

    def loss_and_gradients(self, x: np.ndarray, labels: np.ndarray):
        """Mean cross-entropy of a batch and, per layer, (dL/dW_effective, dL/db)."""
        loss, delta = softmax_cross_entropy(self.forward(x, keep=True), labels)
        grads = [None] * len(self.layers)
        for k in range(len(self.layers) - 1, -1, -1):
            grad_x, grad_w, grad_b = self.layers[k].backward(self._inputs[k], delta, input_grad=k > 0)
            grads[k] = (grad_w, grad_b)
            if k:
                delta = grad_x * self._masks[k - 1]
        return loss, grads

    def accuracy(self, x: np.ndarray, labels: np.ndarray, batch_size: int = 1000) -> float:
        """Fraction of ``x`` classified as ``labels``."""
        hits = 0
        for start in range(0, len(x), batch_size):
            logits = self.forward(x[start:start + batch_size])
            hits += int((logits.argmax(axis=1) == labels[start:start + batch_size]).sum())
        return hits / max(len(x), 1)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of a batch and its gradient with respect to the logits."""
    logits = logits - logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    n = len(labels)
    loss = float(-log_p[np.arange(n), labels].mean())
    delta = np.exp(log_p)
    delta[np.arange(n), labels] -= 1
    delta /= np.float32(n)
    return loss, delta
