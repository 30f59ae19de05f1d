"""Sub-pixel shift of one image against another by phase correlation (Kuglin and Hines 1975): the peak of the
normalised cross-power spectrum's inverse gives the integer shift; the same inverse evaluated on a grid UPSAMPLE times
finer around that peak by two matrix products (Guizar-Sicairos et al. 2008, as scikit-image's phase_cross_correlation
does) gives the fraction. numpy's FFT only, so that it runs wherever the plugin does.

Used to report how far each acquisition of a time series lies from the reference, and to leave out the ones that
lie too far, or that changed too much for their shift to be measured (a weak peak)."""
from typing import NamedTuple

import numpy as np

UPSAMPLE = 40  # the fraction of a pixel is found to 1 / UPSAMPLE


class Shift(NamedTuple):
    """rows, cols: where `moving` lies against `reference`, in pixels (positive: its content sits down and right of
    the reference's); peak: the correlation peak's height (1: the same image moved; under about 0.1: too different
    to trust the shift)."""
    rows: float
    cols: float
    peak: float


def phase_correlation(reference, moving):
    """The Shift of `moving` against `reference`, 2-D float arrays of one shape without NaN (both are windowed by a
    Hann taper, so the image edges do not dominate)."""
    rows, cols = reference.shape
    taper = np.outer(np.hanning(rows), np.hanning(cols))
    a = np.fft.fft2((reference - reference.mean()) * taper)
    b = np.fft.fft2((moving - moving.mean()) * taper)
    cross = b * np.conj(a)
    spectrum = cross / np.maximum(np.abs(cross), 1e-12)
    surface = np.fft.ifft2(spectrum).real
    i, j = np.unravel_index(np.argmax(surface), surface.shape)
    wrap = lambda k, n: k - n if k > n // 2 else k  # noqa: E731
    steps = np.arange(-UPSAMPLE, UPSAMPLE + 1) / UPSAMPLE  # one pixel either side, in steps of 1 / UPSAMPLE
    at_rows, at_cols = wrap(i, rows) + steps, wrap(j, cols) + steps
    fine = (np.exp(2j * np.pi * np.outer(at_rows, np.fft.fftfreq(rows))) @ spectrum
            @ np.exp(2j * np.pi * np.outer(np.fft.fftfreq(cols), at_cols))).real / (rows * cols)
    k, m = np.unravel_index(np.argmax(fine), fine.shape)
    return Shift(float(at_rows[k]), float(at_cols[m]), float(fine[k, m]))


def median_shift(reference, moving, windows, usable=0.7):
    """The Shift of `moving` against `reference` ((bands, rows, cols) arrays, NaN where not usable) as the median over
    `windows` (row, col, rows, cols) and bands of the windows' shifts: windows where both have at least the share
    `usable` of their pixels, the others filled with the window's mean; None where no window is usable."""
    def cut(image, r, c, h, w):
        part = image[:, r : r + h, c : c + w]
        return part if np.isfinite(part).mean() >= usable else None

    def filled(part):
        return np.where(np.isfinite(part), part, np.nanmean(part))

    pairs = [(a, b) for a, b in (((cut(reference, *w), cut(moving, *w)) for w in windows))
             if a is not None and b is not None]
    found = [phase_correlation(filled(a[k]), filled(b[k])) for a, b in pairs for k in range(len(a))]
    if not found:
        return None
    return Shift(*(float(np.median(values)) for values in zip(*found)))


def fourier_shift(images, shifts):
    """`images` (..., rows, cols) moved by `shifts` (..., 2) pixels (rows, cols; leading shapes broadcast, e.g.
    images (N, 1, bands, rows, cols) and shifts (N, T, 1, 2) give (N, T, bands, rows, cols)), as a band-limited image
    moves: each image is mirrored to twice its size first, so nothing wraps around, and no interpolation blurs it."""
    rows, cols = images.shape[-2:]
    mirrored = np.concatenate([images, images[..., ::-1, :]], -2)
    mirrored = np.concatenate([mirrored, mirrored[..., ::-1]], -1)
    ky, kx = np.fft.fftfreq(2 * rows)[:, None], np.fft.rfftfreq(2 * cols)[None]
    phase = ky * shifts[..., 0, None, None] + kx * shifts[..., 1, None, None]
    moved = np.fft.irfft2(np.fft.rfft2(mirrored) * np.exp(-2j * np.pi * phase), s=mirrored.shape[-2:])
    return moved[..., :rows, :cols]
