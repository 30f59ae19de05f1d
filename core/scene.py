"""What a network knows of the whole scene: every input band's mean and standard deviation, and for every
target band a pan band fitted from the 10 m bands (least squares at the target band's own pixel size, as
classical pan-sharpening does). Computed once per scene (a tiled run: from windows sampled over the area),
so that every tile is standardised alike, and all of it follows any gain and offset applied to a band.
numpy throughout (the plugin runs without PyTorch where ONNX Runtime runs the networks); `SceneStats.tensors`
hands them to a PyTorch network."""
from typing import NamedTuple

import numpy as np

from .degrade import block_mean

#: smallest standard deviation (DN) a band is divided by
STD_FLOOR = 1.0


class SceneStats(NamedTuple):
    """float32 arrays with a leading batch dimension: mean and std (N, input bands: 10 m, 20 m, 60 m in that
    order), pan (N, target bands, 10 m bands + 1): weights and intercept of each target band's fitted pan band."""
    mean: np.ndarray
    std: np.ndarray
    pan: np.ndarray

    def tensors(self, device="cpu"):
        """The same as PyTorch tensors on `device` (what models.dsen2.DSen2 takes)."""
        import torch

        return SceneStats(*(torch.as_tensor(a, device=device) for a in self))

    @staticmethod
    def stack(items):
        return SceneStats(*(np.concatenate(parts) for parts in zip(*items)))


def pan_bands(stats, hi):
    """Every target band's fitted pan band at 10 m, DN (N, target bands, H, W), from the 10 m bands `hi`
    (N, 4, H, W); numpy arrays or PyTorch tensors alike (the network computes it too)."""
    n, k, rows, cols = hi.shape
    weights = stats.pan  # one product of matrices: 4 to 6 times as fast as a sum of weighted bands
    return (weights[:, :, :k] @ hi.reshape(n, k, rows * cols)).reshape(n, -1, rows, cols) + weights[:, :, k:, None]


def scene_stats(windows, scale):
    """SceneStats (batch of one) from windows of the scene: [(hi, mid) or (hi, mid, lo)] float arrays
    (bands, rows, cols) on nested grids (10, 20, 60 m or the same degraded by the Wald protocol), NaN where no
    data. The last array holds the target bands; `scale` is the 10 m bands' pixels per target pixel."""
    groups = list(zip(*windows))
    values = [np.concatenate([w.reshape(len(w), -1) for w in g], 1).astype(np.float64) for g in groups]
    valid = [np.isfinite(v) for v in values]
    count = [np.maximum(ok.sum(1), 1) for ok in valid]
    mean = [np.where(ok, v, 0).sum(1) / n for v, ok, n in zip(values, valid, count)]
    std = [np.sqrt(np.where(ok, (v - m[:, None]) ** 2, 0).sum(1) / n)
           for v, ok, m, n in zip(values, valid, mean, count)]
    design = np.concatenate([_block_mean(hi, scale).reshape(len(hi), -1) for hi in groups[0]], 1)
    design = np.vstack([design, np.ones(design.shape[1])]).astype(np.float64)
    target = values[-1]
    rows = np.isfinite(design).all(0) & np.isfinite(target).all(0)
    pan = np.zeros((len(target), len(design)))
    pan[:, -1] = mean[-1]  # too few pixels to fit: a flat pan band, i.e. no pan detail
    if rows.sum() > 2 * len(design):
        pan = np.linalg.lstsq(design[:, rows].T, target[:, rows].T, rcond=None)[0].T
    batch = lambda a: np.asarray(a, np.float32)[None]  # noqa: E731
    return SceneStats(batch(np.concatenate(mean)), batch(np.maximum(np.concatenate(std), STD_FLOOR)), batch(pan))


def _block_mean(img, factor):
    """`block_mean` of the whole blocks of a (bands, rows, cols) array."""
    rows, cols = (n - n % factor for n in img.shape[1:])
    return block_mean(img[:, :rows, :cols], factor)
