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
    return _upsample(_upsample(x, factor, a, -2), factor, a, -1)


def _upsample(x, factor, a, axis):
    """Along one axis, by phases: output pixel i * factor + p is the same four-tap sum of the input from pixel i on
    for every i, the input's edge pixels repeated twice."""
    n = x.shape[axis]
    x = np.moveaxis(x, axis, -1)
    padded = np.concatenate([x[..., :1], x[..., :1], x, x[..., -1:], x[..., -1:]], -1)
    out = np.empty(x.shape[:-1] + (n * factor,), x.dtype)
    for p in range(factor):
        position = (p + 0.5) / factor - 0.5
        start = int(np.floor(position))  # -1 or 0: the taps are input pixels i + start - 1 ... i + start + 2
        taps = _weights(np.array(position - start), a)
        out[..., p::factor] = sum(float(w) * padded[..., start + 1 + k : start + 1 + k + n] for k, w in enumerate(taps))
    return np.moveaxis(out, -1, axis)
