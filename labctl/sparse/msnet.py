"""MSNet: conv1, conv2 and max-pooling in software (numpy, im2col), the FC classifier on the array.

Seed 000 runs MSNet's convolutions in software and its FC layer on the 450-cell chip. Our sizes
(*our choice*; the methods are not in our copy): 28x28 input -> conv1 5x5 stride 2, 16 channels,
ReLU (12x12x16) -> conv2 3x3, ``features / 25`` channels, ReLU (10x10) -> 2x2 max-pool (5x5) ->
FC ``features x classes`` (75 x 6 = 450 cells by default). With 8 conv1 channels a floating-point FC
layer topped out at ~95 % on the 6-class synthetic letters at 75 % sparsity, the issue's target, so
the chip's result sat on the line (94.0-95.1 % over BLAS thread counts); 16 lift the float run to
96.5 % and the chip's to 95-96 %. The FC layer is any object with
``forward(x)``, ``backward(x, delta)``, ``w`` and ``bias`` (a :class:`SparseAnalogLayer` or the
floating-point :class:`labctl.training.DigitalLayer`), so :class:`labctl.training.Optimizer` updates
all three layers: the convolutions as digital layers, the FC layer by pulses.
"""

from __future__ import annotations

import numpy as np

from labctl.errors import ConfigError, field_error
from labctl.training.network import softmax_cross_entropy

SIDE = 28


class Conv2D:
    """A valid (unpadded) convolution on ``(n, H, W, C)`` float32 images, as one im2col matmul."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, rng: np.random.Generator) -> None:
        self.kernel, self.stride, self.in_channels = kernel, stride, in_channels
        fan_in = kernel * kernel * in_channels
        self.w = (rng.standard_normal((fan_in, out_channels)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        self.bias = np.zeros(out_channels, dtype=np.float32)

    def _columns(self, x: np.ndarray) -> np.ndarray:
        """``(n, oh, ow, k*k*C)`` patches (a strided view reshaped into one copy)."""
        k, s = self.kernel, self.stride
        win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))[:, ::s, ::s]  # n, oh, ow, C, k, k
        return win.transpose(0, 1, 2, 4, 5, 3).reshape(*win.shape[:3], -1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._columns(x) @ self.w + self.bias

    def backward(self, x: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(dL/dx, dL/dw, dL/db)`` for ``delta = dL/d(output)`` of shape ``(n, oh, ow, out)``."""
        cols = self._columns(x)
        grad_w = cols.reshape(-1, cols.shape[-1]).T @ delta.reshape(-1, delta.shape[-1])
        grad_cols = (delta @ self.w.T).reshape(*delta.shape[:3], self.kernel, self.kernel, self.in_channels)
        grad_x = np.zeros_like(x)
        k, s = self.kernel, self.stride
        oh, ow = delta.shape[1:3]
        for a in range(k):  # col2im: scatter-add each kernel offset (k*k vectorised adds)
            for b in range(k):
                grad_x[:, a:a + s * oh:s, b:b + s * ow:s, :] += grad_cols[:, :, :, a, b, :]
        return grad_x, grad_w, delta.sum(axis=(0, 1, 2))


def maxpool2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2x2 max-pool of ``(n, H, W, C)`` (even H, W); also returns the argmax mask for the backward pass."""
    n, h, w, c = x.shape
    blocks = x.reshape(n, h // 2, 2, w // 2, 2, c)
    out = blocks.max(axis=(2, 4))
    mask = blocks == out[:, :, None, :, None, :]
    return out, mask


class MSNet:
    """conv1 -> ReLU -> conv2 -> ReLU -> maxpool -> FC -> softmax."""

    def __init__(self, fc, features: int, rng: np.random.Generator, conv1_channels: int = 16) -> None:
        if features % 25 or features < 25:
            raise field_error(ConfigError, "features", features, "must be a multiple of 25 (channels x 5 x 5)")
        self.conv1 = Conv2D(1, conv1_channels, 5, 2, rng)
        self.conv2 = Conv2D(conv1_channels, features // 25, 3, 1, rng)
        self.fc = fc
        self.layers = [self.conv1, self.conv2, fc]

    def features(self, images: np.ndarray, keep: bool = False) -> np.ndarray:
        """FC inputs ``(n, features)`` of flat 784-pixel images."""
        x0 = images.reshape(-1, SIDE, SIDE, 1)
        z1 = self.conv1.forward(x0)
        a1 = np.maximum(z1, 0)
        z2 = self.conv2.forward(a1)
        a2 = np.maximum(z2, 0)
        pooled, mask = maxpool2(a2)
        if keep:
            self._cache = (x0, z1, a1, z2, mask)
        return pooled.reshape(len(pooled), -1)

    def logits(self, images: np.ndarray) -> np.ndarray:
        return self.fc.forward(self.features(images))

    def loss_and_gradients(self, images: np.ndarray, labels: np.ndarray):
        """Mean cross-entropy and ``[(dL/dw, dL/db)]`` for conv1, conv2 and FC (FC's w is effective)."""
        feats = self.features(images, keep=True)
        loss, delta = softmax_cross_entropy(self.fc.forward(feats), labels)
        grad_f, grad_fc, grad_fcb = self.fc.backward(feats, delta)
        x0, z1, a1, z2, mask = self._cache
        pooled_shape = (len(labels), z2.shape[1] // 2, z2.shape[2] // 2, z2.shape[3])
        up = grad_f.reshape(pooled_shape)[:, :, None, :, None, :] * mask  # route to the max (ties share)
        d2 = up.reshape(z2.shape) * (z2 > 0)
        grad_a1, grad_c2, grad_c2b = self.conv2.backward(a1, d2)
        _, grad_c1, grad_c1b = self.conv1.backward(x0, grad_a1 * (z1 > 0))
        return loss, [(grad_c1, grad_c1b), (grad_c2, grad_c2b), (grad_fc, grad_fcb)]

    def predict(self, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
        return np.concatenate([self.logits(images[i:i + batch_size]).argmax(axis=1)
                               for i in range(0, len(images), batch_size)])

    def accuracy(self, images: np.ndarray, labels: np.ndarray) -> float:
        return float(np.mean(self.predict(images) == labels)) if len(labels) else 0.0
