"""Bicubic upsampling by a whole factor in numpy, as PyTorch computes it (F.interpolate, mode "bicubic",
align_corners=False: Keys' kernel with A = -0.75, edge pixels repeated), for what runs without PyTorch: the models
of model cards in ONNX Runtime, their self-check and the bands it gives to bicubic upsampling."""
import numpy as np

A = -0.75


def _weights(t):
    """Kernel weights (..., 4) of the source pixels at offsets -1, 0, 1, 2 from floor(position); t: the fraction."""
    def near(x):
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], -1)


def bicubic(x, factor):
    """(..., rows, cols) float array upsampled `factor` times along both last axes, in its own dtype."""
    out = x
    for axis in (-2, -1):
        n = out.shape[axis]
        position = (np.arange(n * factor) + 0.5) / factor - 0.5
        start = np.floor(position).astype(int)
        index = np.clip(start[:, None] + np.arange(-1, 3), 0, n - 1)
        moved = np.moveaxis(out, axis, -1)
        out = np.moveaxis((moved[..., index] * _weights(position - start)).sum(-1), -1, axis)
    return out.astype(x.dtype)
