"""Wald-protocol degradation: Gaussian blur (sigma = 1/s pixels) then s x s block mean."""
import numpy as np


def gaussian_blur(img, sigma):
    """Separable Gaussian blur of a (bands, rows, cols) array, mirrored edges, truncated at 4 sigma."""
    return blur(np.asarray(img, dtype=np.float32), sigma)


def blur(x, sigma):
    """`gaussian_blur` of (..., rows, cols), a numpy array or a torch tensor: edges mirrored (the edge pixel
    repeated), truncated at 4 sigma."""
    taps = gaussian_taps(sigma).tolist()
    radius = len(taps) // 2
    for axis in (-2, -1):
        n = x.shape[axis]
        index = np.arange(-radius, n + radius)
        index = np.clip(np.where(index < 0, -index - 1, np.where(index >= n, 2 * n - index - 1, index)), 0, n - 1)
        cut = (lambda k: (Ellipsis, slice(k, k + n), slice(None))) if axis == -2 else (
            lambda k: (Ellipsis, slice(k, k + n)))
        padded = x[(Ellipsis, index, slice(None)) if axis == -2 else (Ellipsis, index)]
        x = sum(w * padded[cut(k)] for k, w in enumerate(taps))
    return x


def gaussian_taps(sigma):
    """The blur's normalised 1-D kernel, truncated at 4 sigma."""
    radius = int(4.0 * sigma + 0.5)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1, dtype=np.float64) / sigma) ** 2)
    return taps / taps.sum()


def block_mean(img, factor):
    """Means over factor x factor blocks of (..., rows, cols); rows and cols must be multiples of factor."""
    rows, cols = img.shape[-2:]
    return img.reshape(img.shape[:-2] + (rows // factor, factor, cols // factor, factor)).mean(axis=(-3, -1))


def degrade(img, scale):
    """Simulate a sensor with `scale` times coarser pixels; rows and cols must be multiples of scale."""
    rows, cols = img.shape[-2:]
    if rows % scale or cols % scale:
        raise ValueError("image size %dx%d is not a multiple of %d" % (cols, rows, scale))
    blurred = gaussian_blur(img, 1.0 / scale)
    return block_mean(blurred, scale)


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


def shifted(scene, rows, cols, step=6):
    """The scene without its first `rows` and `cols` pixels of `step` x 10 m (6: 60 m pixels, 2: 20 m pixels; the
    bands of coarser pixels are left out): the coarse cells of a Wald pair then fall at another phase of that
    grid (a new training pair from the same scene)."""
    return {f: a[:, rows * step // f :, cols * step // f :] for f, a in scene.items() if f <= step}


def coarser(scene, factor):
    """The scene as a sensor with `factor` times coarser pixels (Wald degradation), cut to whole 120 m cells."""
    if factor == 1:
        return scene
    rows, cols = (n - n % (12 * factor) for n in scene[1].shape[1:])
    return {f: degrade(a[:, : rows // f, : cols // f], factor) for f, a in scene.items()}
