"""How much OSCD's resampling caps the scores on its test sites: per scene, the share of target pixels that the
nearest-neighbour round trip through EPSG:4326 repeated (`training.data.resampling_repeats`), and the SRE gain of
the model and of HPF over bicubic on all pixels and on the measured ones alone (Wald protocol).

    python bench/repeats.py [weights.pt ...]     (default: the installed networks)
    python bench/repeats.py --flips              (each network averaged over the 8 flips and rotations, FLIPS)
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "plugins"))
from s2sr import models  # noqa: E402
from s2sr.core.degrade import wald_pair  # noqa: E402
from s2sr.run.estimates import estimates  # noqa: E402
from s2sr.models.ensemble import FlipEnsemble  # noqa: E402
from s2sr.training import checkset  # noqa: E402
from s2sr.training.data import resampling_repeats  # noqa: E402
from s2sr.training.evaluate import sre_gain, summarize  # noqa: E402


def rows(net, scenes):
    """Per scene: repeated share, then model and HPF gain over bicubic (dB) on all pixels and on the measured ones."""
    out = []
    for name, scene in scenes.items():
        pair = wald_pair(scene, net.scale)
        cells, guesses = [name, resampling_repeats(pair["target"]).mean()], estimates(net, pair)
        for pixels in ("all", "measured"):
            result = summarize(net.scale, [(pair, guesses)], pixels)
            cells += [sre_gain(result), np.mean(result["hpf"]["sre"]) - np.mean(result["bicubic"]["sre"])]
        out.append(cells)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", help="checkpoints (default: the installed networks)")
    parser.add_argument("--flips", action="store_true", help="each network averaged over the 8 flips and rotations")
    args = parser.parse_args()
    scenes = {k: s for k, (_, s) in checkset.oscd_test_scenes().items()}
    paths = args.models or [models.weights_path("dsen2_oscd", s) for s in (2, 6)]
    for path in paths:
        net = models.load_network(path)
        net = FlipEnsemble(net) if args.flips else net
        table = [r for r in rows(net, scenes) if np.isfinite(r[2])]
        print("\n#### %dx: %s%s\n" % (net.scale, os.path.basename(path), " with FLIPS" if args.flips else ""))
        print("| scene | repeated pixels | model gain, all pixels | HPF gain, all | model gain, repeats left out "
              "| HPF gain, repeats left out |\n|---|---|---|---|---|---|")
        for r in table + [["**mean**"] + list(np.mean([r[1:] for r in table], axis=0))]:
            print("| %s | %.1f %% | %+.2f | %+.2f | %+.2f | %+.2f |" % (r[0], 100 * r[1], *r[2:]))
        few = [r for r in table if r[1] < 0.05]
        print("\nscenes with under 5 %% repeated: %d, model gain %+.2f dB (all pixels)"
              % (len(few), np.mean([r[2] for r in few])))


if __name__ == "__main__":
    main()
