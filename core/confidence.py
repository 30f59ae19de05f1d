"""Per-pixel confidence: the expected absolute error (DN) of every sharpened 10 m pixel.

Where the network, bicubic upsampling and HPF pan-sharpening agree, and the band and its pan band are smooth,
the sharpened value is rarely far off; where they disagree, or at edges, it can be. The expected error is a
non-negative linear model of those local quantities, in units of the band's standard deviation over the scene
(so it follows any gain applied to the band, as the networks do):

    E|error| = std x (c0 + c1 |est - bicubic| + c2 |est - HPF| + c3 |HPF - bicubic| + c4 |grad bicubic|)

each term averaged over a small window (its size per scale: WINDOW). `est` is what the output holds for the
band (the network's value, or the classical method's where the self-check chose it); the coefficients are
fitted per band and per method on Wald-protocol residuals of scenes that the network never trained on
(`training.confidence`), and stored in the weight file with the factor that turns the expected error into
the bound that 80 % of the errors stay under. Per scene, the expected error is scaled by how the network did on
the scene's own windows at reduced scale (the self-check's windows), and the bound is predicted from how its errors
spread there (`Calibration.for_scene`).
"""
from dataclasses import dataclass

import numpy as np

from .fits import Fitted

WINDOW = {2: 3, 6: 5}  # 10 m pixels a side of the window the terms are averaged over (chosen by measurement)
QUANTILE = 0.8  # the share of the errors the bound is for
TERMS = ("1", "|est - bicubic|", "|est - HPF|", "|HPF - bicubic|", "|grad bicubic|")


def reach(scale):
    """10 m pixels of context the confidence needs beyond the sharpened bands' own."""
    return WINDOW[scale] // 2 + 1


def local_terms(est, cubic, classical, scale):
    """The terms of the model after the constant, per pixel, in DN (not yet averaged over the window): a list of
    (N, bands, H, W) arrays."""
    dy, dx = np.diff(cubic, axis=-2), np.diff(cubic, axis=-1)
    dy, dx = np.concatenate([dy, dy[..., -1:, :]], -2), np.concatenate([dx, dx[..., -1:]], -1)  # the last repeated
    return [np.abs(est - cubic), np.abs(est - classical), np.abs(classical - cubic), np.hypot(dx, dy) * scale]


def features(est, cubic, classical, std, scale):
    """(N, bands, len(TERMS), H, W): the terms of the model for the estimate `est` (N, bands, H, W DN), given the
    bicubic and HPF estimates and the target bands' scene std (N, bands): what the calibration fits."""
    terms = np.stack(local_terms(est, cubic, classical, scale), 2) / std[:, :, None, None, None]
    smooth = box_mean(terms.astype(np.float32, copy=False), WINDOW[scale])
    return np.concatenate([np.ones_like(smooth[:, :, :1]), smooth], 2)


def box_mean(x, k):
    """Mean of every k x k window (k odd) of (..., H, W) centred on each pixel, over its pixels inside the array."""
    r = k // 2
    for axis in (x.ndim - 2, x.ndim - 1):
        n = x.shape[axis]
        total = x.copy()
        for j in range(1, r + 1):  # each pixel gains its neighbours j before and j after it, where they exist
            after, before = ([slice(None)] * axis + [part] for part in (slice(j, None), slice(None, -j)))
            total[tuple(after)] += x[tuple(before)]
            total[tuple(before)] += x[tuple(after)]
        count = np.minimum(np.arange(n) + r, n - 1) - np.maximum(np.arange(n) - r, 0) + 1
        total /= count.astype(x.dtype).reshape((n,) + (1,) * (x.ndim - 1 - axis))
        x = total
    return x


@dataclass
class Calibration(Fitted):
    """What `training.confidence` fitted for one network: per method ("model", "hpf", "bicubic") per band the
    len(TERMS) non-negative coefficients; per method the factor that turns the expected error into the bound 80 % of
    the errors stayed under on the calibration scenes; `scene`: (a, b) of the per-scene correction of the expected
    error and `scene_bound`: (c, d, e) of the per-scene bound (see `for_scene`), or None where there are none;
    `source` names the calibration scenes; `steps` the network's training steps when it was fitted (a network trained
    further must be calibrated again)."""
    scale: int
    coef: dict
    bound: dict
    scene: list
    scene_bound: list
    source: str
    steps: int

    def combine(self, est, methods, cubic, classical, stats, factor=1.0):
        """(N, bands, H, W) expected |error| in DN of `est` (N, bands, H, W), whose band i was made by methods[i],
        given the bicubic and HPF estimates `cubic` and `classical` of the same bands and the scene's SceneStats;
        times `factor`. The model on `features`, computed as one window mean of the weighted terms (the mean and the
        weights commute, and each band's std cancels out of every term but the constant)."""
        std = stats.std[:, -est.shape[1]:]
        coef = factor * np.array([self.coef[m][i] for i, m in enumerate(methods)], np.float32)
        weighted = sum(c[:, None, None] * term for c, term in zip(coef[:, 1:].T, local_terms(est, cubic, classical,
                                                                                              self.scale)))
        return std[..., None, None] * coef[:, 0, None, None] + box_mean(weighted.astype(np.float32, copy=False),
                                                                        WINDOW[self.scale])

    def check_errors(self, pairs, stats):
        """On Wald pairs with their estimates (`run.estimates.estimated`) under the SceneStats `stats`, the
        network's mean expected over mean actual error, and the share QUANTILE of its actual over expected error,
        pixel by pixel (all bands)."""
        expected = actual = 0.0
        ratios = []
        for pair, estimates in pairs:
            guess = {m: e[None] for m, e in estimates.items()}
            model = guess["model"]
            guessed = self.combine(model, ("model",) * model.shape[1], guess["bicubic"], guess["hpf"], stats)[0]
            error = np.abs(model[0] - pair["target"])
            expected += float(guessed.sum(dtype=np.float64))
            actual += float(error.sum(dtype=np.float64))
            ratios.append((error / np.maximum(guessed, 1e-6)).ravel())
        return expected / max(actual, 1e-6), float(np.quantile(np.concatenate(ratios), QUANTILE))

    def factor_for(self, ratio):
        """The scale of the expected errors of a scene where the ratio of expected to actual error on Wald pairs of
        its own windows is `ratio`: that ratio one scale finer, where the output is, predicted as exp(a) ratio^b
        (a, b fitted on the calibration scenes, where both scales can be measured), inverted; 1 where there is no
        ratio or no fitted correction."""
        if ratio is None or not self.scene:
            return 1.0
        a, b = self.scene
        return float(np.exp(-a) * ratio ** -b)

    def bound_for(self, ratio, quantile):
        """The factor of the 80 % bound of the (scaled) expected errors of a scene where, on Wald pairs of its own
        windows, the ratio of expected to actual error is `ratio` and 80 % of the actual errors stayed under
        `quantile` times the expected: exp(c) quantile^d ratio^e (fitted on the calibration scenes, where both scales
        can be measured); the calibration scenes' bound where there is no ratio, no fitted correction, or no error
        to learn from (most errors 0: a flat scene)."""
        if ratio is None or not self.scene_bound or not quantile > 0:
            return self.bound["model"]
        c, d, e = self.scene_bound
        return float(np.exp(c) * quantile ** d * ratio ** e)

    def for_scene(self, pairs, stats):
        """(factor of the expected errors, factor of their 80 % bound) of the scene whose windows
        (run.selfcheck.wald_windows) gave the Wald pairs, with their estimates (`run.estimates.estimated`) under
        the SceneStats `stats`: `factor_for` and `bound_for`."""
        ratio, quantile = self.check_errors(pairs, stats) if pairs and self.scene else (None, None)
        return self.factor_for(ratio), self.bound_for(ratio, quantile)
