"""Classical multi-frame baselines that a fusion network is scored beside (s2sr:evaluatemultitemporal,
bench/multitemporal.py): the registered median of the frames, and shift-and-add. numpy only.

Both take `frames` (T, bands, rows, cols) with NaN where a frame is unusable, frame 0 the reference; `shifts` (T, 2):
where each frame's content lies against the reference's, in its pixels (core.registration); `stats` (T, 2, bands):
each frame's mean and standard deviation per band, by which its values are first brought to the reference's."""
import numpy as np

from .registration import fourier_shift
from .resample import bicubic


def matched(frames, stats):
    """Every frame's values brought to the reference's mean and standard deviation per band."""
    mean, std = stats[:, 0, :, None, None], stats[:, 1, :, None, None]
    return (frames - mean) / std * std[0] + mean[0]


def registered_median(frames, shifts, stats, factor):
    """Every frame moved back onto the reference by its shift, their median per pixel, upsampled bicubically by
    `factor`."""
    values = matched(frames, stats)
    usable = np.isfinite(values)
    moved = fourier_shift(np.where(usable, values, stats[:1, 0, :, None, None]), -np.asarray(shifts)[:, None])
    median = np.nanmedian(np.where(usable, moved, np.nan), 0)
    return bicubic(np.where(np.isfinite(median), median, frames[0])[None].astype(np.float32), factor)[0]


def shift_and_add(frames, shifts, stats, factor):
    """Shift-and-add on the grid `factor` times finer: every frame's usable pixels placed at the nearest fine pixel
    of where they lie, averaged per fine pixel; fine pixels no sample reached are the reference's, bicubically
    upsampled."""
    t, bands, rows, cols = frames.shape
    values = matched(frames, stats)
    total, count = np.zeros((bands, factor * rows, factor * cols)), np.zeros((factor * rows, factor * cols))
    for k in range(t):
        r = np.rint(factor * (np.arange(rows) - shifts[k][0]) + (factor - 1) / 2).astype(int)
        c = np.rint(factor * (np.arange(cols) - shifts[k][1]) + (factor - 1) / 2).astype(int)
        rr, cc = np.meshgrid(r, c, indexing="ij")
        keep = np.isfinite(values[k]).all(0) & (rr >= 0) & (rr < factor * rows) & (cc >= 0) & (cc < factor * cols)
        for b in range(bands):
            np.add.at(total[b], (rr[keep], cc[keep]), values[k, b][keep])
        np.add.at(count, (rr[keep], cc[keep]), 1)
    base = bicubic(np.nan_to_num(frames[:1]).astype(np.float32), factor)[0]
    return np.where(count > 0, total / np.maximum(count, 1), base).astype(np.float32)
