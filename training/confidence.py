"""Calibrate a network's confidence map (core.confidence) on Wald-protocol residuals of scenes it never trained on.

    python -m s2sr.training.confidence models/dsen2_oscd_2x.pt models/dsen2_oscd_6x.pt

fits, on the OSCD test sites (both dates: held out from training), the coefficients per band and method, the
factor of the 80 % bound and the per-scene corrections of the expected error and of that bound (where the scenes are
large enough to be degraded twice),
and stores them in the weight file (key "confidence"). `bench/confidence.py` measures the result on the check
set through the whole pipeline.
"""
import argparse
import dataclasses

import numpy as np
import torch

from ..core import confidence
from ..core.degrade import wald_pair
from ..run.estimates import estimated, estimates
from ..models import load_checkpoint, load_network, save_checkpoint
from ..core.scene import scene_stats
from . import checkset
from .data import resampling_repeats

SAMPLES = 20_000  # pixels per scene and band that enter the fit
METHODS = ("model", "hpf", "bicubic")
MIN_SCENES = 8  # scenes large enough to be degraded twice, needed to fit the per-scene correction
SOURCE = "Wald residuals of the OSCD test sites (both dates), pixels repeated by their resampling left out"


def residuals(net, scene):
    """For one scene degraded by the network's scale: {method: (terms (bands, len(TERMS), pixels), |error| / std
    (bands, pixels))}, the Wald pair, the estimates and the pair's statistics."""
    pair = wald_pair(scene, net.scale)
    stats = scene_stats([[pair[k] for k in ("hi", "mid", "lo") if k in pair]], net.scale)
    est = {m: e[None] for m, e in estimates(net, pair, stats=stats).items()}
    std = stats.std[:, -len(net.bands):]
    out = {}
    for m in METHODS:
        terms = confidence.features(est[m], est["bicubic"], est["hpf"], std, net.scale)[0]
        error = np.abs(est[m][0] - pair["target"]) / std[0][:, None, None]
        out[m] = terms.reshape(terms.shape[0], terms.shape[1], -1), error.reshape(len(error), -1)
    return out, pair, est, stats


def nnls(x, y):
    """Least squares with non-negative coefficients (active set: drop the negative ones and refit)."""
    active = list(range(x.shape[1]))
    while True:
        c = np.linalg.lstsq(x[:, active], y, rcond=None)[0]
        if (c >= 0).all():
            break
        active = [a for a, v in zip(active, c) if v > 0]
    out = np.zeros(x.shape[1])
    out[active] = c
    return out


def as_pair_scene(pair):
    """A Wald pair's inputs as a scene ({1, 2, 6: arrays}), to be degraded once more."""
    return {f: pair[k] for f, k in ((1, "hi"), (2, "mid"), (6, "lo")) if k in pair}


def fit(net, scenes, steps, seed=0):
    """A confidence.Calibration for `net` from {name: scene}: coefficients by non-negative least squares on sampled
    pixels (not those that a resampling repeated: their error is the resampling's); the per-scene correction from
    the scenes large enough to be degraded twice, and from the same scenes (all their pixels, as the check's windows
    have) the per-scene 80 % bound as predicted by the errors one scale coarser; then the 80 % bound of the corrected
    expected errors over all scenes."""
    rng = np.random.default_rng(seed)
    samples = {m: ([], []) for m in METHODS}
    pairs = []
    for scene in scenes.values():
        result, pair, est, stats = residuals(net, scene)
        pairs.append((pair, {m: e[0] for m, e in est.items()}, stats))
        measured = np.flatnonzero(~resampling_repeats(pair["target"]))  # OSCD's repeated pixels: no true error
        for m, (terms, error) in result.items():
            pick = rng.choice(measured, size=min(SAMPLES, len(measured)), replace=False)
            samples[m][0].append(terms[:, :, pick].astype(np.float64))
            samples[m][1].append(error[:, pick].astype(np.float64))
    coef = {m: [nnls(t.T, e).tolist() for t, e in zip(np.concatenate(terms, 2), np.concatenate(errors, 1))]
            for m, (terms, errors) in samples.items()}
    calibration = confidence.Calibration(net.scale, coef, {}, None, None, SOURCE, steps)
    rows, coarser = [], []  # (ratio, quantile) at the output's scale and on the scene degraded once more
    for pair, est, stats in pairs:
        twice = as_pair_scene(pair)
        coarser.append(None)
        if checkset.fits(twice, net.scale):
            pair2 = wald_pair(twice, net.scale)
            stats2 = scene_stats([[pair2[k] for k in ("hi", "mid", "lo") if k in pair2]], net.scale)
            coarser[-1] = calibration.check_errors(estimated(net, [pair2], stats2), stats2)
            rows.append(calibration.check_errors([(pair, est)], stats) + coarser[-1])
    if len(rows) >= MIN_SCENES:
        ratio, quantile, check_ratio, check_quantile = np.log(np.array(rows)).T
        b, a = np.polyfit(check_ratio, ratio, 1)
        calibration.scene = [float(a), float(b)]
        # each scene's own bound of the corrected expected errors, from how its errors spread one scale coarser
        bound = quantile + a + b * check_ratio  # log(quantile / factor_for(check ratio))
        x = np.stack([np.ones_like(bound), check_quantile, check_ratio], 1)
        calibration.scene_bound = np.linalg.lstsq(x, bound, rcond=None)[0].tolist()
    factors = [calibration.factor_for(check[0] if check else None) for check in coarser]
    for m, (terms, errors) in samples.items():
        ratio = [e / np.maximum(f * np.einsum("btp,bt->bp", t, np.array(coef[m])), 1e-6)
                 for t, e, f in zip(terms, errors, factors)]
        calibration.bound[m] = float(np.quantile(np.concatenate(ratio, 1), confidence.QUANTILE))
    return calibration, len(rows)


def store_fits(doc, fit, key, describe):
    """The command line of a calibration: for each weight file given, `fit`(network, the OSCD test sites large enough
    for its scale, its training steps) -> (a dataclass or None, scenes used), stored in the file under `key`
    (removed where None), and `describe`(network, fitted, scenes used) printed."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(1)
    oscd = checkset.oscd_test_scenes()
    for path in args.weights:
        ckpt = load_checkpoint(path)
        net = load_network(path)
        fitted, used = fit(net, {n: s for n, (_, s) in oscd.items() if checkset.fits(s, net.scale)},
                           ckpt["record"]["steps"])
        ckpt.pop(key, None)
        if fitted:
            ckpt[key] = dataclasses.asdict(fitted)
        save_checkpoint(ckpt, path)
        print("%s: %s" % (path, describe(net, fitted, used)), flush=True)


def describe(net, calibration, corrected):
    return "80 %% bound = %s x the expected error; per-scene correction %s" % (
        ", ".join("%.2f (%s)" % (b, m) for m, b in calibration.bound.items()),
        "exp(%.3f) r^%.3f, bound exp(%.3f) q^%.3f r^%.3f, from %d scenes" % (
            *calibration.scene, *calibration.scene_bound, corrected) if calibration.scene else
        "none (%d scenes large enough to degrade twice, %d needed)" % (corrected, MIN_SCENES))


def main():
    store_fits(__doc__, fit, "confidence", describe)


if __name__ == "__main__":
    main()
