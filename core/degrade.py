"""Wald-protocol degradation: Gaussian blur (sigma = 1/s pixels) then s x s block mean."""
import numpy as np
import torch


def gaussian_blur(img, sigma):
    """Separable Gaussian blur of a (bands, rows, cols) array, mirrored edges, truncated at 4 sigma."""
    return blur(torch.from_numpy(np.asarray(img, dtype=np.float32)), sigma).numpy()


def blur(x, sigma):
    """`gaussian_blur` of a tensor (..., rows, cols): edges mirrored (the edge pixel repeated), truncated at 4
    sigma."""
    radius = int(4.0 * sigma + 0.5)
    taps = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, dtype=torch.float64) / sigma) ** 2)
    taps = (taps / taps.sum()).tolist()
    for dim in (-2, -1):
        n = x.shape[dim]
        index = torch.arange(-radius, n + radius)
        index = torch.where(index < 0, -index - 1, torch.where(index >= n, 2 * n - index - 1, index)).clamp(0, n - 1)
        padded = x.index_select(dim, index.to(x.device))
        x = sum(w * padded.narrow(dim, k, n) for k, w in enumerate(taps))
    return x


def degrade(img, scale):
    """Simulate a sensor with `scale` times coarser pixels; rows and cols must be multiples of scale."""
    bands, rows, cols = img.shape
    if rows % scale or cols % scale:
        raise ValueError("image size %dx%d is not a multiple of %d" % (cols, rows, scale))
    blurred = gaussian_blur(img, 1.0 / scale)
    return blurred.reshape(bands, rows // scale, scale, cols // scale, scale).mean(axis=(2, 4))


def wald_pair(scene, scale):
    """Inputs degraded by `scale` and the original target bands, cropped to whole coarse cells.

    scale 2: hi = 10 m -> 20 m, mid = 20 m -> 40 m, target = 20 m bands.
    scale 6: hi = 10 m -> 60 m, mid = 20 m -> 120 m, lo = 60 m -> 360 m, target = 60 m bands.
    """
    block = 2 * scale if scale == 2 else 6 * scale  # 10 m pixels per coarsest degraded cell
    rows, cols = (n - n % block for n in scene[1].shape[1:])
    crop = {f: a[:, : rows // f, : cols // f] for f, a in scene.items()}
    pair = {"hi": degrade(crop[1], scale), "mid": degrade(crop[2], scale)}
    if scale == 6:
        pair["lo"] = degrade(crop[6], scale)
    pair["target"] = crop[2] if scale == 2 else crop[6]
    return pair


def coarser(scene, factor):
    """The scene as a sensor with `factor` times coarser pixels (Wald degradation), cut to whole 120 m cells."""
    if factor == 1:
        return scene
    rows, cols = (n - n % (12 * factor) for n in scene[1].shape[1:])
    return {f: degrade(a[:, : rows // f, : cols // f], factor) for f, a in scene.items()}
