"""Reduced-scale quality (Wald protocol) on the held-out OSCD test sites and on the out-of-distribution check
set: bicubic, HPF pan-sharpening (the classical baseline of run.evaluation) and the model, per band and per
scene, at brightness gains 0.5 to 2; on the OSCD sites also the model with radiometric consistency enforced and
with its convolutions in bfloat16 (PRECISION automatic on CPUs with native bfloat16). Prints Markdown sections
for docs/benchmarks.md.

    make bench-quality      (runs: python bench/quality.py)
    python bench/quality.py --flips     (each network averaged over the 8 flips and rotations of its input, FLIPS)
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "plugins"))
from s2sr import models  # noqa: E402
from s2sr.core.degrade import coarser, wald_pair  # noqa: E402
from s2sr.models.ensemble import FlipEnsemble  # noqa: E402
from s2sr.training import checkset  # noqa: E402
from s2sr.training.evaluate import evaluate  # noqa: E402

METRICS = (("rmse", "RMSE (DN)", "%.1f"), ("sre", "SRE (dB)", "%.2f"), ("uiq", "UIQ", "%.4f"))


def section(scale, results):
    """Markdown table: rows = bands and mean, columns = metric x method."""
    methods = list(results)
    bands = results[methods[0]]["bands"]
    head = ["band"] + ["%s %s" % (label, m) for _, label, _ in METRICS for m in methods]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, band in enumerate(bands + ["mean"]):
        cells = [band]
        for key, _, fmt in METRICS:
            for m in methods:
                values = results[m]["scores"][key]
                cells.append(fmt % (np.mean(values) if band == "mean" else values[i]))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("SAM (degrees): " + ", ".join("%s %.3f" % (m, results[m]["scores"]["sam"]) for m in methods) + ".")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="dsen2_oscd")
    parser.add_argument("--flips", action="store_true", help="each network averaged over the 8 flips and rotations")
    args = parser.parse_args()
    wrap = FlipEnsemble if args.flips else (lambda net: net)
    oscd, check = checkset.oscd_test_scenes(), checkset.check_scenes()
    scenes = {k: s for k, (_, s) in oscd.items()}
    for scale in (2, 6):
        start = time.time()
        pairs = {k: wald_pair(s, scale) for k, s in scenes.items()}
        net = wrap(models.load_network(models.weights_path(args.model, scale)))
        free, exact = evaluate(net, pairs), evaluate(net, pairs, consistent=True)
        fast = evaluate(wrap(models.load_network(models.weights_path(args.model, scale), precision="bfloat16")), pairs)
        results = {"bicubic": {"bands": free["bands"], "scores": free["bicubic"]},
                   "HPF": {"bands": free["bands"], "scores": free["hpf"]},
                   "model": {"bands": free["bands"], "scores": free["model"]},
                   "model + consistency": {"bands": free["bands"], "scores": exact["model"]},
                   "model bfloat16": {"bands": free["bands"], "scores": fast["model"]}}
        print("### %dx: %s%s, %d scenes (10 OSCD test sites x 2 dates), inputs degraded by %d\n"
              % (scale, args.model, " with FLIPS" if args.flips else "", len(pairs), scale))
        print(section(scale, results))
        for name, group in (("the OSCD test sites", oscd), ("the check set", check)):
            rows = checkset.score_scenes(net, group)
            print("\n#### %dx per scene: %s (SRE in dB)\n" % (scale, name))
            print(checkset.scene_table(rows, scale))
            print("\nBrightness: every band multiplied by a gain before the protocol\n")
            print(checkset.gain_table(rows))
        print("\n(%.0f s)\n" % (time.time() - start))
    print(scale_check(scenes, args.model, wrap))


def scale_check(scenes, model, wrap):
    """The 2x network (trained 40 -> 20 m) on the same scenes one octave coarser (80 -> 40 m): how much of its
    gain over bicubic survives a factor-2 change of scale, the assumption behind applying it at 20 -> 10 m."""
    net = wrap(models.load_network(models.weights_path(model, 2)))
    gains = {}
    for name, factor in (("40 -> 20 m (as trained)", 1), ("80 -> 40 m (one octave coarser)", 2)):
        result = evaluate(net, {k: wald_pair(coarser(s, factor), 2) for k, s in scenes.items()})
        gains[name] = (np.mean(result["bicubic"]["sre"]), np.mean(result["model"]["sre"]))
    lines = ["### Scale check: the 2x network one octave coarser than trained\n",
             "| inputs -> target | SRE bicubic (dB) | SRE model (dB) | gain (dB) |", "|---|---|---|---|"]
    lines += ["| %s | %.2f | %.2f | %+.2f |" % (k, b, m, m - b) for k, (b, m) in gains.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
