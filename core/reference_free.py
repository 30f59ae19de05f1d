"""Quality of super-resolved bands at the scene's own scale, where no finer reference exists (the Wald protocol of
run.evaluation only sees a coarser copy of the scene). Per band and method, from the output at 10 m, the measured
band and the 10 m bands:

- effective resolution (`edge_spread`): the output's mean profile across straight, high-contrast edges of the band's
  pan band (the 10 m bands fitted to it), its 10-90 % rise distance in 10 m pixels: the edge method of image-quality
  practice (ISO 12233's slanted edge) on the scene's own edges. The pan band's own rise is the 10 m reference;
  overshoot beyond the far side's level is reported too (sharpening can buy rise with ringing);
- spectral consistency (`spectral_consistency`): the output degraded back to the band's pixel size (the Wald
  protocol's sensor model: Gaussian blur, block mean) against the measured band, SRE in dB;
- spatial consistency (`explained_detail`): the share (R^2) of the band's added detail (output minus bicubic
  upsampling of the measured band) that a least-squares fit on the 10 m bands' own detail at that pixel size explains.

QGIS-free and model-free: arrays in, numbers out."""
import numpy as np

from .degrade import degrade, gaussian_blur
from .metrics import sre
from .resample import bicubic

EDGE_SIGMA = 1.0  # pixels: the pan band smoothed by this before its gradients are taken
TENSOR_SIGMA = 2.0  # pixels: the structure tensor's window
COHERENCE = 0.8  # at least, of the structure tensor: a straight edge
STRONGEST = 0.03  # share of the pixels, the strongest gradients, that may hold an edge
CELL = 8  # pixels: at most one edge in each CELL x CELL cell
MAX_EDGES = 2000
MIN_EDGES = 20  # fewer, and the mean profile is too noisy: no rise is given
STEP = 0.25  # pixels between the samples of a profile
RISE = (0.1, 0.9)


def reach(factor):
    """10 m pixels on each side of an edge that its profile spans: the band's blur and bicubic's reach, and a plateau
    of 2 pixels beyond them."""
    return 2 * factor + 4


def sample(image, rows, cols):
    """Bilinear samples of a (H, W) image at float positions (edge pixels repeated)."""
    h, w = image.shape
    rows, cols = np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1)
    r0, c0 = np.minimum(rows.astype(int), h - 2), np.minimum(cols.astype(int), w - 2)
    fr, fc = rows - r0, cols - c0
    return ((image[r0, c0] * (1 - fc) + image[r0, c0 + 1] * fc) * (1 - fr)
            + (image[r0 + 1, c0] * (1 - fc) + image[r0 + 1, c0 + 1] * fc) * fr)


def straight_edges(pan, margin):
    """Points on straight, high-contrast edges of a (H, W) image at least `margin` pixels from its border: rows, cols
    and the unit normal (rows, cols), up the gradient; the strongest in each CELL x CELL cell, at most MAX_EDGES."""
    smooth = gaussian_blur(pan[None], EDGE_SIGMA)[0].astype(np.float64)
    gy, gx = np.gradient(smooth)
    magnitude = np.hypot(gx, gy)
    jxx, jxy, jyy = gaussian_blur(np.stack([gx * gx, gx * gy, gy * gy]), TENSOR_SIGMA).astype(np.float64)
    coherence = np.hypot(jxx - jyy, 2 * jxy) / np.maximum(jxx + jyy, 1e-12)
    ny, nx = gy / np.maximum(magnitude, 1e-12), gx / np.maximum(magnitude, 1e-12)
    rows, cols = np.indices(pan.shape, dtype=np.float64)
    ahead, behind = sample(magnitude, rows + ny, cols + nx), sample(magnitude, rows - ny, cols - nx)
    peak = (magnitude >= ahead) & (magnitude > behind)  # the ridge of the gradient, across the edge
    inside = np.zeros(pan.shape, bool)
    inside[margin:-margin, margin:-margin] = True
    strong = magnitude >= np.quantile(magnitude, 1 - STRONGEST)
    r, c = np.nonzero(peak & inside & strong & (coherence >= COHERENCE))
    order = np.argsort(-magnitude[r, c], kind="stable")
    r, c = r[order], c[order]
    _, first = np.unique((r // CELL) * (pan.shape[1] // CELL + 1) + c // CELL, return_index=True)
    keep = np.sort(first)[:MAX_EDGES]  # the strongest edge of each cell, the strongest cells first
    r, c = r[keep], c[keep]
    return r, c, ny[r, c], nx[r, c]


def edge_spread(pan, images, measured, factor):
    """The mean edge profile of each image across the straight edges of `pan` (H, W: the band's pan band at 10 m)
    where the measured band (`measured`, its bicubic upsampling to 10 m) shows the same edge (at most 1 + factor / 2
    pixels off, the same sign, half to twice the pan's contrast) and no other edge lies within `reach(factor)`.
    images: {name: (H, W) at 10 m}.

    Every profile is centred on the pan's edge (the centroid of its derivative) and scaled by the measured band's
    levels on either side (0 and 1), so that every method is measured on the same edges and levels. Returns {"edges":
    how many, "offsets": pixels, "profiles": {name: mean profile}, "rise": {name: 10-90 % rise in pixels},
    "overshoot": {name: peak above the far level, in shares of the edge's contrast}}, "pan" among the names (scaled by
    its own levels); NaN profiles and measures where fewer than MIN_EDGES edges qualify."""
    span = reach(factor)
    r, c, ny, nx = straight_edges(pan, span + 1)
    t = np.arange(-span, span + STEP / 2, STEP)
    rows, cols = r[:, None] + t * ny[:, None], c[:, None] + t * nx[:, None]
    plateau = (t <= -span + 1, t >= span - 1)

    def levels(profile):
        return profile[:, plateau[0]].mean(1), profile[:, plateau[1]].mean(1)

    def unit(profile, low, high):  # 0 and 1 at the levels; one edge, no line or second edge: within -0.15 ... 1.15
        scaled = (profile - low[:, None]) / np.maximum(high - low, 1e-12)[:, None]
        slope = np.clip(np.diff(scaled, axis=1), 0, None)
        centre = (slope * (t[:-1] + STEP / 2)).sum(1) / np.maximum(slope.sum(1), 1e-12)  # of the derivative
        return centre, (high > low) & (scaled.min(1) > -0.15) & (scaled.max(1) < 1.15)

    guide, band = sample(pan, rows, cols), sample(measured, rows, cols)
    (g0, g1), (b0, b1) = levels(guide), levels(band)
    centre, ok = unit(guide, g0, g1)
    at, edge = unit(band, b0, b1)  # the measured band shows the edge there, with a like contrast
    ok &= edge & (np.abs(centre) <= 1.0) & (np.abs(at - centre) <= 1 + factor / 2)
    ok &= (b1 - b0 >= 0.5 * (g1 - g0)) & (b1 - b0 <= 2 * (g1 - g0))
    common = np.arange(-span + 2, span - 2 + STEP / 2, STEP)
    found = {"edges": int(ok.sum()), "offsets": common, "profiles": {}, "rise": {}, "overshoot": {}}
    for name, image in dict(images, pan=pan).items():
        profile = sample(image, rows[ok], cols[ok])
        low, high = levels(guide[ok]) if name == "pan" else (b0[ok], b1[ok])
        scaled = (profile - low[:, None]) / (high - low)[:, None]
        centred = np.array([np.interp(common, t - shift, p) for shift, p in zip(centre[ok], scaled)])
        mean = centred.mean(0) if len(centred) >= MIN_EDGES else np.full(common.shape, np.nan)
        found["profiles"][name] = mean
        found["rise"][name] = rise(common, mean)
        found["overshoot"][name] = float(mean[common > 0].max() - 1)
    return found


def rise(offsets, profile):
    """Distance between the crossings of RISE[0] and RISE[1] nearest the centre, outwards from it (NaN where a
    crossing is missing)."""
    centre = int(np.argmin(np.abs(offsets)))
    below = np.nonzero(profile[: centre + 1] < RISE[0])[0]
    above = np.nonzero(profile[centre:] > RISE[1])[0]
    if not len(below) or not len(above):
        return float("nan")
    i, j = below[-1], centre + above[0]  # the last sample under 10 % before the centre, the first over 90 % after

    def cross(k, level):  # between samples k and k + 1
        return offsets[k] + (level - profile[k]) / (profile[k + 1] - profile[k]) * (offsets[k + 1] - offsets[k])
    return float(cross(j - 1, RISE[1]) - cross(i, RISE[0]))


def spectral_consistency(estimate, measured, factor):
    """SRE (dB) per band of `estimate` (bands, H, W) at 10 m degraded to the measured bands' pixel size (`factor` 10 m
    pixels) against the measured bands (bands, H / factor, W / factor)."""
    rows, cols = measured.shape[1:]
    return sre(measured, degrade(estimate[:, : rows * factor, : cols * factor], factor))


def explained_detail(estimates, cubic, hi, factor):
    """{name: per band R^2} of the least-squares fit of each estimate's added detail (the estimate (bands, H, W) minus
    `cubic`, the bicubic upsampling of the measured bands, whose pixels are `factor` 10 m pixels) on the 10 m bands'
    own detail at that pixel size (`hi` (4, H, W) minus its degraded and bicubic-upsampled self), with an offset; NaN
    where an estimate adds no detail (bicubic itself). The 10 m bands' detail is computed once for all estimates."""
    rows, cols = cubic.shape[1:]
    hi = hi[:, :rows, :cols].astype(np.float32)
    guide = (hi - bicubic(degrade(hi, factor), factor)).reshape(len(hi), -1)
    design = np.vstack([guide, np.ones(guide.shape[1], np.float32)]).T.astype(np.float64)

    def r2(d):
        spread = d.var()
        if spread < 1e-6:
            return float("nan")
        fit = design @ np.linalg.lstsq(design, d, rcond=None)[0]
        return float(1 - (d - fit).var() / spread)
    return {name: np.array([r2(d) for d in (e[:, :rows, :cols] - cubic).reshape(len(cubic), -1).astype(np.float64)])
            for name, e in estimates.items()}
