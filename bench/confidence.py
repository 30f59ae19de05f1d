"""The confidence map measured: every check-set scene and OSCD test scene is degraded by the Wald protocol and run
through the whole pipeline (run.pipeline.super_resolve, self-check on) with the CONFIDENCE output; the expected
error is compared with the actual absolute error of the output against the measured bands. Per scene: the Spearman
rank correlation of expected and actual error (mean over bands), the share of pixels whose error stays under the
80 % bound (the expected error times S2SR_CONFIDENCE_BOUND_80), and the ratio of mean expected to mean actual
error. Beside them, the Spearman of an oracle that knows the actual errors of the 8 pixels around each pixel (not its
own): about the most that a map of local quantities can reach. Then, for the choice of method, the spread of the
network's output over the eight flips and rotations of the input: its Spearman against the actual error, and the
SRE of their mean against the single output. Prints Markdown for docs/benchmarks.md.

    python bench/confidence.py        (also part of make bench-quality)
"""
import argparse
import os
import sys

import numpy as np
from osgeo import gdal

from selfcheck import as_raster  # bench/ is the script's folder

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "plugins"))
from s2sr import models  # noqa: E402
from s2sr.core.bands import GROUPS  # noqa: E402
from s2sr.core.confidence import box_mean  # noqa: E402
from s2sr.core.devices import set_threads  # noqa: E402
from s2sr.core.degrade import block_mean, wald_pair  # noqa: E402
from s2sr.core.metrics import spearman, sre  # noqa: E402
from s2sr.core.product import Product  # noqa: E402
from s2sr.run.options import Options  # noqa: E402
from s2sr.run.pipeline import super_resolve  # noqa: E402
from s2sr.models.ensemble import FlipEnsemble  # noqa: E402
from s2sr.core.scene import scene_stats  # noqa: E402
from s2sr.training import checkset  # noqa: E402

PIXELS = 100_000  # pixels per band that enter the Spearman correlation (sampled)
BLOCK = 3  # the regions the map is judged on: Spearman of its means and the actual errors' means over BLOCK x BLOCK


def run(pair, scale, model):
    """The pipeline's output and confidence map (bands, rows, cols) for a Wald pair, and the 80 % bound factor."""
    keys = ("hi", "mid", "lo")[: 3 if scale == 6 else 2]
    paths = [as_raster(pair[k], 10.0 * f, "/vsimem/s2sr-bench/%s.tif" % k) for k, f in zip(keys, (1, 2, 6))]
    out, conf = "/tmp/s2sr-bench-confidence-out.tif", "/tmp/s2sr-bench-confidence.tif"
    super_resolve(Product.from_stacks(paths[0], paths[1], paths[2] if scale == 6 else None), out,
                  Options(targets=("60m",) if scale == 6 else ("20m",), include_10m=False, model=model),
                  confidence=conf, log=lambda message: None)
    shape = (-1,) + pair["target"].shape[1:]
    result, expected = (gdal.Open(p).ReadAsArray().reshape(shape).astype(np.float64) for p in (out, conf))
    items = gdal.Open(conf).GetMetadata()
    bound = float(dict(i.split(":") for i in items["S2SR_CONFIDENCE_BOUND_80"].split())["%dx" % scale])
    factor = items["S2SR_CONFIDENCE_SCENE_FACTOR"]
    for p in (out, conf):
        os.remove(p)
    return result, expected, bound, factor


def neighbours(actual, k=3):
    """An oracle's expected error: the mean actual error of the k x k pixels around each pixel, the pixel itself left
    out. No map built from local quantities knows more than the errors around a pixel, so its Spearman is about as
    high as such a map can rank."""
    r = k // 2
    rows, cols = ((np.minimum(np.arange(n) + r, n - 1) - np.maximum(np.arange(n) - r, 0) + 1)
                  for n in actual.shape[-2:])
    count = rows[:, None] * cols[None, :]  # pixels of the window inside the array
    return (box_mean(actual, k) * count - actual) / np.maximum(count - 1, 1)


def calibration_rows(scenes, scale, model, seed=0):
    rows = []
    for name, (level, scene) in scenes.items():
        if not checkset.fits(scene, scale):
            continue
        pair = wald_pair(scene, scale)
        result, expected, bound, factor = run(pair, scale, model)
        actual = np.abs(result - pair["target"])
        oracle = neighbours(actual)
        rows_, cols_ = (n - n % BLOCK for n in actual.shape[1:])
        regions = [block_mean(a[:, :rows_, :cols_], BLOCK).reshape(len(a), -1) for a in (expected, actual)]
        blocks = np.mean([spearman(e, a) for e, a in zip(*regions)])
        actual, expected, oracle = (a.reshape(len(result), -1) for a in (actual, expected, oracle))
        pick = np.random.default_rng(seed).choice(actual.shape[1], min(PIXELS, actual.shape[1]), replace=False)
        rho, best = (np.mean([spearman(e[pick], a[pick]) for e, a in zip(guess, actual)])
                     for guess in (expected, oracle))
        rows.append((name, level, rho, float(np.mean(actual < bound * expected)), expected.mean() / actual.mean(),
                     factor, best, blocks))
    return rows


def calibration_table(sets, scale, model):
    lines = ["| set | scene | level | Spearman on %d x %d blocks (mean over %s) | Spearman per pixel | share under "
             "the 80 %% bound | expected / actual mean error | scene factor | Spearman per pixel of an oracle: the "
             "actual mean error of the 8 pixels around |" % (BLOCK, BLOCK, " ".join(GROUPS[scale])),
             "|---|---|---|---|---|---|---|---|---|"]
    for label, scenes in sets.items():
        rows = calibration_rows(scenes, scale, model)
        for name, level, rho, covered, ratio, factor, best, blocks in rows:
            lines.append("| %s | %s | %s | %.3f | %.3f | %.1f %% | %.2f | %s | %.3f |"
                         % (label, name, level, blocks, rho, 100 * covered, ratio, factor, best))
        if rows:
            low = min(rows, key=lambda r: r[7])
            cover = [r[3] for r in rows]
            lines.append("| %s | **mean; lowest on blocks: %s** | | **%.3f**; %.3f | %.3f | %.1f ... %.1f %% (range; "
                         "%d of %d in 75 ... 85 %%) | %.2f | | %.3f |" % (
                             label, low[0], np.mean([r[7] for r in rows]), low[7], np.mean([r[2] for r in rows]),
                             100 * min(cover), 100 * max(cover), sum(0.75 <= c <= 0.85 for c in cover), len(cover),
                             np.mean([r[4] for r in rows]), np.mean([r[6] for r in rows])))
    return "\n".join(lines)


def flips(net, pair):
    """The network's output for the eight flips and rotations of a Wald pair's inputs, turned back: (8, bands, H, W)."""
    keys = [k for k in ("hi", "mid", "lo") if k in pair]
    stats = scene_stats([[pair[k] for k in keys]], net.scale)
    return np.concatenate(list(FlipEnsemble(net).outputs({f: pair[k][None] for f, k in zip(net.inputs, keys)}, stats)))


def flips_table(scenes, scale, model, seed=0):
    net = models.load_network(models.weights_path(model, scale))
    lines = ["| scene | level | Spearman of the spread over 8 flips and rotations | SRE single (dB) | SRE mean of the "
             "8 (dB) |", "|---|---|---|---|---|"]
    for name, (level, scene) in scenes.items():
        if not checkset.fits(scene, scale):
            continue
        pair = wald_pair(scene, scale)
        outs = flips(net, pair)
        actual, spread = (np.abs(outs[0] - pair["target"]).reshape(len(outs[0]), -1),
                          outs.std(0).reshape(len(outs[0]), -1))
        pick = np.random.default_rng(seed).choice(actual.shape[1], min(PIXELS, actual.shape[1]), replace=False)
        lines.append("| %s | %s | %.3f | %.2f | %.2f |" % (
            name, level, np.mean([spearman(s[pick], a[pick]) for s, a in zip(spread, actual)]),
            np.mean(sre(pair["target"], outs[0])), np.mean(sre(pair["target"], outs.mean(0)))))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="dsen2_oscd")
    parser.add_argument("--check-set", action="store_true",
                        help="the check set only: not the OSCD test sites (calibration) nor the flips' spread")
    args = parser.parse_args()
    set_threads("torch", 1)
    check = checkset.check_scenes()
    sets = {"check set": check}
    if not args.check_set:
        sets["OSCD test (calibration)"] = checkset.oscd_test_scenes()
    for scale in (2, 6):
        print("### %dx: the confidence map through the pipeline\n" % scale)
        print(calibration_table(sets, scale, args.model) + "\n", flush=True)
        if not args.check_set:
            print("### %dx: spread over flips and rotations (check set)\n" % scale)
            print(flips_table(check, scale, args.model) + "\n", flush=True)


if __name__ == "__main__":
    main()
