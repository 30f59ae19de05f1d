"""The self-check measured: every OSCD test scene and check-set scene is degraded by the Wald protocol and run
through the whole pipeline (run.pipeline.super_resolve) with SELF_CHECK on and off; the output is compared with the
measured bands, per band, beside bicubic and HPF pan-sharpening. The self-check sees only the degraded scene (it
degrades it once more to decide), as it sees only the user's scene in real use. Prints Markdown for
docs/benchmarks.md: per scale, the worst band of any scene against the better classical method, with and without
the check, and how the bands the check gave to a classical method changed, on the OSCD test sites (where the
2x check's scale shift is fitted: training.selfcheck) and on the held-out check set apart.

    python bench/selfcheck.py        (also part of make bench-quality)
"""
import argparse
import os
import sys

import numpy as np
from osgeo import gdal, osr

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "plugins"))
from s2sr import models  # noqa: E402
from s2sr.core.bands import GROUPS  # noqa: E402
from s2sr.core.degrade import wald_pair  # noqa: E402
from s2sr.run.estimates import estimates  # noqa: E402
from s2sr.core.metrics import sre  # noqa: E402
from s2sr.core.product import Product  # noqa: E402
from s2sr.run.options import Options  # noqa: E402
from s2sr.run.pipeline import super_resolve  # noqa: E402
from s2sr.training import checkset  # noqa: E402

TOLERANCE = 0.3  # dB below the better classical method that counts as a failure


def as_raster(array, pixel, path):
    """A Float32 GeoTIFF in /vsimem of (bands, rows, cols) with square pixels of `pixel` m on a UTM grid at 0, 0."""
    ds = gdal.GetDriverByName("GTiff").Create(path, array.shape[2], array.shape[1], array.shape[0], gdal.GDT_Float32)
    ds.SetGeoTransform((500000.0, pixel, 0, 5000000.0, 0, -pixel))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32631)
    ds.SetProjection(srs.ExportToWkt())
    for i, band in enumerate(array, 1):
        ds.GetRasterBand(i).WriteArray(band)
        ds.GetRasterBand(i).SetNoDataValue(-1.0)  # the degraded values are never negative: no pixel is no-data
    ds.FlushCache()
    return path


def pipeline_sre(pair, scale, model, check):
    """Per-band SRE of the whole pipeline's output on a Wald pair (inputs written as rasters, output read back)."""
    keys = ("hi", "mid", "lo")[: 3 if scale == 6 else 2]
    paths = [as_raster(pair[k], 10.0 * f, "/vsimem/s2sr-bench/%s.tif" % k) for k, f in zip(keys, (1, 2, 6))]
    out = "/tmp/s2sr-bench-selfcheck.tif"
    super_resolve(Product.from_stacks(paths[0], paths[1], paths[2] if scale == 6 else None), out,
                  Options(targets=("60m",) if scale == 6 else ("20m",), include_10m=False, model=model,
                          self_check=check),
                  log=lambda message: None)
    result = gdal.Open(out).ReadAsArray().reshape((-1,) + pair["target"].shape[1:])
    report = gdal.Open(out).GetMetadataItem("S2SR_SELF_CHECK")
    os.remove(out)
    return sre(pair["target"], result), report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="dsen2_oscd")
    args = parser.parse_args()
    oscd = checkset.oscd_test_scenes()
    scenes = dict(oscd, **checkset.check_scenes())
    for scale in (2, 6):
        net = models.load_network(models.weights_path(args.model, scale))
        bands = GROUPS[scale]
        worst = {"on": (np.inf, ""), "off": (np.inf, "")}
        changed, checked, small = {"OSCD test sites": [], "check set": []}, 0, 0
        for name, (level, scene) in scenes.items():
            if not checkset.fits(scene, scale):
                continue
            pair = wald_pair(scene, scale)
            classical = {m: sre(pair["target"], e) for m, e in estimates(net, pair).items() if m != "model"}
            best = np.maximum(classical["bicubic"], classical["hpf"])
            on, report = pipeline_sre(pair, scale, args.model, True)
            off, _ = pipeline_sre(pair, scale, args.model, False)
            checked += 1
            small += "too small" in report
            for key, values in (("on", on), ("off", off)):
                i = int(np.argmin(values - best))
                if values[i] - best[i] < worst[key][0]:
                    worst[key] = (values[i] - best[i], "%s %s (%s)" % (name, bands[i], level))
            changed["OSCD test sites" if name in oscd else "check set"] += [
                on[i] - off[i] for i in range(len(bands)) if abs(on[i] - off[i]) > 1e-6]
        print("### %dx: %d scenes (%d too small for the check to run: the network is used there)\n"
              % (scale, checked, small))
        print("| SELF_CHECK | worst band of any scene: SRE minus the better of bicubic and HPF (dB) | where |")
        print("|---|---|---|")
        for key in ("off", "on"):
            print("| %s | %+.2f | %s |" % (key, worst[key][0], worst[key][1]))
        print("\nBands the check gave to a classical method: %d of %d; their SRE changed by %s (%s).\n" % (
            sum(map(len, changed.values())), checked * len(bands), spread(sum(changed.values(), [])),
            "; ".join("%s: %d, %s" % (where, len(c), spread(c)) for where, c in changed.items())))


def spread(changes):
    """The mean and range of the changes (dB), or none where there are none."""
    return ("%+.2f dB on average (from %+.2f to %+.2f)" % (np.mean(changes), min(changes), max(changes)) if changes
            else "none")


if __name__ == "__main__":
    main()
