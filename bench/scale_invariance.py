"""Scale-invariance check (DSen2 section 4): the method trains at reduced scale and applies the network one
octave finer, assuming the mapping is close to scale-invariant. Train the same 2x network with the same budget
at 40 -> 20 m and at 80 -> 40 m, then score both on the held-out OSCD test scenes at both scales:

    python -m s2sr.training.data --out data/packed_oscd --scales 2 --coarser-copies 0 --no-extra
    python -m s2sr.training.data --out data/packed_octave --octaves 1 --scales 2 --coarser-copies 0 --no-extra
    python -m s2sr.training.train --scale 2 --data data/packed_oscd --out build/scale/at_40_20.pt --minutes 10
    python -m s2sr.training.train --scale 2 --data data/packed_octave --out build/scale/at_80_40.pt --minutes 10
    python bench/scale_invariance.py build/scale/at_40_20.pt build/scale/at_80_40.pt

The drop is the 40 -> 20 m score of the network trained at 80 -> 40 m below that of the network trained at
40 -> 20 m: what applying a network one octave finer than it was trained costs.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "plugins"))
from s2sr.models import load_network  # noqa: E402
from s2sr.training.data import load_pairs  # noqa: E402
from s2sr.training.evaluate import evaluate  # noqa: E402

TESTS = {"40 -> 20 m": "data/packed_oscd/2x/test", "80 -> 40 m": "data/packed_octave/2x/test"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+")
    args = parser.parse_args()
    tests = {name: load_pairs(folder) for name, folder in TESTS.items()}
    print("| network | " + " | ".join("SRE bicubic / model at %s (dB)" % t for t in tests) + " |")
    print("|---|" + "---|" * len(tests))
    for path in args.checkpoints:
        net = load_network(path)
        cells = []
        for pairs in tests.values():
            r = evaluate(net, pairs)
            cells.append("%.2f / %.2f (%+.2f)" % (np.mean(r["bicubic"]["sre"]), np.mean(r["model"]["sre"]),
                                                 np.mean(r["model"]["sre"]) - np.mean(r["bicubic"]["sre"])))
        print("| %s (%s) | %s |" % (os.path.basename(path), net.version, " | ".join(cells)))


if __name__ == "__main__":
    main()
