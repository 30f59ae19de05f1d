"""Bicubic upsampling by a whole factor in numpy, as PyTorch computes it (F.interpolate, mode "bicubic",
align_corners=False: Keys' kernel with A = -0.75, edge pixels repeated) or, with A = -0.5, as GDAL's cubic
resampling does, for what runs without PyTorch: the models of model cards in ONNX Runtime, their self-check and the
bands it gives to bicubic upsampling."""
import numpy as np

TORCH, GDAL = -0.75, -0.5  # Keys' A of PyTorch's bicubic and of GDAL's (and rasterio's) cubic resampling


def _weights(t, a):
    """Kernel weights (..., 4) of the source pixels at offsets -1, 0, 1, 2 from floor(position); t: the fraction."""
    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], -1)


def bicubic(x, factor, a=TORCH):
    """(..., rows, cols) float array upsampled `factor` times along both last axes, in its own dtype."""
    out = x
    for axis in (-2, -1):
        n = out.shape[axis]
        position = (np.arange(n * factor) + 0.5) / factor - 0.5
        start = np.floor(position).astype(int)
        index = np.clip(start[:, None] + np.arange(-1, 3), 0, n - 1)
        moved = np.moveaxis(out, axis, -1)
        out = np.moveaxis((moved[..., index] * _weights(position - start, a)).sum(-1), -1, axis)
    return out.astype(x.dtype)
