"""Calibrate a network's confidence map (core.confidence) on Wald-protocol residuals of scenes it never trained
on, and measure how well it ranks and bounds the errors, per scene.

    python -m s2sr.training.confidence models/dsen2_oscd_2x.pt models/dsen2_oscd_6x.pt

fits the coefficients on the OSCD test sites (both dates: held out from training), stores them in the weight
file (key "confidence"), and prints, per scene of the check set (held out from training and from this fit) and
of the OSCD test sites, the Spearman rank correlation between the expected and the actual absolute error
(mean over bands) and the share of pixels whose error stays under the 80 % bound.
"""
import argparse
import dataclasses
import os

import numpy as np
import torch

from ..core import confidence
from ..core.bands import GROUPS
from ..core.degrade import wald_pair
from ..core.evaluation import estimates
from ..models import load_checkpoint, load_network
from ..models.scene import scene_stats
from . import checkset

SAMPLES = 20_000  # pixels per scene and band that enter the fit
METHODS = ("model", "hpf", "bicubic")


def residuals(net, scene):
    """For one scene degraded by the network's scale: {method: (terms (bands, len(TERMS), pixels), |error| / std
    (bands, pixels))}, the inputs, the estimates and the scene's statistics."""
    pair = wald_pair(scene, net.scale)
    keys = ("hi", "mid", "lo")[: 3 if net.scale == 6 else 2]
    stats = scene_stats([[pair[k] for k in keys]], net.scale)
    est = {m: torch.from_numpy(e)[None] for m, e in estimates(net, pair, stats=stats).items()}
    std = stats.std[:, -net.n_out:]
    out = {}
    for m in METHODS:
        terms = confidence.features(est[m], est["bicubic"], est["hpf"], std, net.scale)[0].numpy()
        error = np.abs(est[m][0].numpy() - pair["target"]) / std[0].numpy()[:, None, None]
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


def fit(net, scenes, steps, source, seed=0):
    """A confidence.Calibration for `net` from {name: scene}."""
    rng = np.random.default_rng(seed)
    samples = {m: ([], []) for m in METHODS}
    for scene in scenes.values():
        for m, (terms, error) in residuals(net, scene)[0].items():
            pick = rng.choice(error.shape[1], size=min(SAMPLES, error.shape[1]), replace=False)
            samples[m][0].append(terms[:, :, pick])
            samples[m][1].append(error[:, pick])
    coef, bound = {}, {}
    for m, (terms, errors) in samples.items():
        terms, errors = np.concatenate(terms, 2).astype(np.float64), np.concatenate(errors, 1).astype(np.float64)
        coef[m] = [nnls(t.T, e).tolist() for t, e in zip(terms, errors)]
        expected = np.einsum("btp,bt->bp", terms, np.array(coef[m]))
        bound[m] = float(np.quantile(errors / np.maximum(expected, 1e-6), 0.8))
    return confidence.Calibration(net.scale, coef, bound, source, steps)


def rank(a):
    out = np.empty(len(a))
    out[np.argsort(a, kind="stable")] = np.arange(len(a))
    return out


def spearman(a, b):
    return float(np.corrcoef(rank(a), rank(b))[0, 1])


def assess(net, calibration, scene, pixels=100_000, seed=0):
    """(Spearman mean over bands, share of pixels under the 80 % bound, mean expected / mean actual error) of the
    network's output on one scene at reduced scale, through core.confidence as the pipeline computes it."""
    _, pair, est, stats = residuals(net, scene)
    low = torch.from_numpy(pair["lo" if net.scale == 6 else "mid"])[None]
    hi = torch.from_numpy(pair["hi"])[None]
    expected = calibration.expected_error(est["model"], ("model",) * net.n_out, low, hi, stats)[0].numpy()
    actual = np.abs(est["model"][0].numpy() - pair["target"])
    expected, actual = expected.reshape(net.n_out, -1), actual.reshape(net.n_out, -1)
    pick = np.random.default_rng(seed).choice(actual.shape[1], size=min(pixels, actual.shape[1]), replace=False)
    rho = np.mean([spearman(e[pick], a[pick]) for e, a in zip(expected, actual)])
    covered = float(np.mean(actual < calibration.bound["model"] * expected))
    return rho, covered, float(expected.mean() / actual.mean())


def table(net, calibration, sets):
    """Markdown: per scene (sets: {label: {name: (level, scene)}}), Spearman, coverage of the 80 % bound, and the
    ratio of mean expected to mean actual error; then the mean and the worst scene of each set."""
    lines = ["| set | scene | level | Spearman (mean over %s) | share under the 80 %% bound | expected / actual "
             "mean error |" % " ".join(GROUPS[net.scale]), "|---|---|---|---|---|---|"]
    for label, scenes in sets.items():
        rows = [(name, level) + assess(net, calibration, scene) for name, (level, scene) in scenes.items()
                if checkset.fits(scene, net.scale)]
        for name, level, rho, covered, ratio in rows:
            lines.append("| %s | %s | %s | %.3f | %.1f %% | %.2f |" % (label, name, level, rho, 100 * covered, ratio))
        if rows:
            lines.append("| %s | **mean** | | **%.3f** | %.1f %% | %.2f |" % (
                label, np.mean([r[2] for r in rows]), 100 * np.mean([r[3] for r in rows]), np.mean([r[4] for r in rows])))
            low = min(rows, key=lambda r: r[2])
            lines.append("| %s | **lowest Spearman: %s** | %s | %.3f | %.1f %% | %.2f |"
                         % (label, low[0], low[1], low[2], 100 * low[3], low[4]))
            cover = [r[3] for r in rows]
            lines.append("| %s | coverage range | | | %.1f ... %.1f %% | |" % (label, 100 * min(cover), 100 * max(cover)))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", nargs="+")
    parser.add_argument("--no-write", dest="write", action="store_false", help="measure only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    oscd = checkset.oscd_test_scenes()
    if not oscd:
        raise SystemExit("no OSCD test sites (../shared/data/oscd): nothing to calibrate on")
    check = checkset.check_scenes()
    for path in args.weights:
        ckpt = load_checkpoint(path)
        net = load_network(path)
        steps = ckpt["record"]["steps"]
        calibration = fit(net, {n: s for n, (_, s) in oscd.items() if checkset.fits(s, net.scale)}, steps,
                          "Wald residuals of the OSCD test sites (both dates)")
        if args.write:
            ckpt["confidence"] = dataclasses.asdict(calibration)
            torch.save(ckpt, path + ".tmp")
            os.replace(path + ".tmp", path)
        print("\n%dx (%s): 80 %% bound = %s x the expected error\n" % (
            net.scale, path, ", ".join("%.2f (%s)" % (b, m) for m, b in calibration.bound.items())))
        print(table(net, calibration, {"check set": check, "OSCD test (calibration)": oscd}), flush=True)


if __name__ == "__main__":
    main()
