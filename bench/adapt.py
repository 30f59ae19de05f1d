"""ADAPT measured at the output's scale: every check-set scene is degraded once by the Wald protocol (its 20 m bands
become the reference), the 2x network is adapted to the degraded scene (fine-tuned on the scene degraded once more,
training.adapt) for each budget, and the run's output is compared with the measured 20 m bands; beside it the run
without adaptation. Per scene and budget: SRE gain over bicubic, whether the network was kept, and the adaptation's
wall time. Prints Markdown for docs/benchmarks.md.

    python bench/adapt.py [--seconds 30 120]
"""
import argparse
import dataclasses
import os
import sys
import time

import numpy as np
from osgeo import gdal

from selfcheck import as_raster  # bench/ is the script's folder

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "plugins"))
from s2sr.core.degrade import wald_pair  # noqa: E402
from s2sr.core.devices import Runtime  # noqa: E402
from s2sr.core.metrics import sre  # noqa: E402
from s2sr.core.product import Product  # noqa: E402
from s2sr.core.resample import bicubic  # noqa: E402
from s2sr.run.options import Options  # noqa: E402
from s2sr.run.pipeline import super_resolve  # noqa: E402
from s2sr.training import checkset  # noqa: E402
from s2sr.training.adapt import adapted  # noqa: E402

OUT = "/tmp/s2sr-bench-adapt.tif"


def gain(pair, product, options):
    """The run's SRE gain over bicubic (mean over the bands, dB) against the pair's target; the options' model
    version."""
    super_resolve(product, OUT, options, log=lambda message: None)
    out = gdal.Open(OUT)
    result = out.ReadAsArray().astype(np.float64).reshape((-1,) + pair["target"].shape[1:])
    version = out.GetMetadataItem("S2SR_MODEL_VERSION")
    out = None
    os.remove(OUT)
    cubic = bicubic(pair["mid"][None], 2)[0]
    return float(np.mean(sre(pair["target"], result) - sre(pair["target"], cubic))), version


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, nargs="+", default=[30, 120])
    args = parser.parse_args()
    base = Options(targets=("20m",), include_10m=False, runtime=Runtime("cpu", "float32", "torch"))
    print("| scene | level | pixels at 10 m (degraded) | without | %s |" % " | ".join(
        "ADAPT %g s: gain, kept, wall (s)" % s for s in args.seconds))
    print("|" + "---|" * (4 + len(args.seconds)))
    rows = []
    for name, (level, scene) in checkset.check_scenes().items():
        if not checkset.fits(scene, 2):
            continue
        pair = wald_pair(scene, 2)
        paths = [as_raster(pair[k], 10.0 * f, "/vsimem/s2sr-bench-adapt/%s.tif" % k)
                 for k, f in (("hi", 1), ("mid", 2))]
        product = Product.from_stacks(paths[0], paths[1], None)
        row = [gain(pair, product, base)[0]]
        cells = []
        for seconds in args.seconds:
            logged, start = [], time.time()
            options = adapted(product, dataclasses.replace(base, adapt=seconds), log=logged.append)
            wall = time.time() - start
            value, version = gain(pair, product, options)
            kept = "adapted to this scene" in version
            row.append(value)
            cells.append("%+.2f, %s, %.0f" % (value, "kept" if kept else (
                "too small" if any("runs as it is" in m for m in logged) else "not kept"), wall))
        rows.append(row)
        print("| %s | %s | %d x %d | %+.2f | %s |" % (name, level, pair["hi"].shape[2], pair["hi"].shape[1], row[0],
                                                     " | ".join(cells)), flush=True)
    rows = np.array(rows)
    worst = rows[:, 0].argmin()
    print("| **mean** | | | %s |" % " | ".join("**%+.2f**" % v for v in rows.mean(0)))
    print("| scene worst without | | | %s |" % " | ".join("%+.2f" % v for v in rows[worst]))
    print("| lowest in each column | | | %s |" % " | ".join("%+.2f" % v for v in rows.min(0)))


if __name__ == "__main__":
    main()
