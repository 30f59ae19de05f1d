"""The clouds of L1C acquisitions as s2sr:multitemporal finds them: Sentinel Hub's s2cloudless (core.cloud_detector,
at 60 m) beside the spectral test (core.clouds.bright_white, at 10 m), on the 48 real OSCD acquisitions (24 sites,
2 dates; L1C, every band resampled to 10 m by the dataset, block-averaged here to 60 m for s2cloudless): the share
of each acquisition each flags and the share both flag; then the time s2cloudless takes for one acquisition of a full
tile (1830 x 1830 pixels of 60 m, the largest OSCD acquisition's bands repeated to that size).

    python bench/clouds.py [--size 10980]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "plugins"))
from s2sr.core import cloud_detector, clouds  # noqa: E402
from s2sr.core.bands import band_in  # noqa: E402
from s2sr.core.degrade import block_mean  # noqa: E402
from s2sr.training.data import oscd_root, oscd_sites  # noqa: E402
from osgeo import gdal  # noqa: E402

F = cloud_detector.FACTOR


def oscd_bands(folder):
    """{band: float32 DN} of one OSCD acquisition: B2 B3 B4 B8 at 10 m and every band of s2cloudless at 60 m (the
    bands block-averaged to it), over the whole 60 m pixels."""
    files = {band_in(n): os.path.join(folder, n) for n in os.listdir(folder) if band_in(n)}
    read = {b: gdal.Open(p).ReadAsArray().astype(np.float32) for b, p in files.items()}
    rows, cols = read["B1"].shape
    on_60m = {}
    for band in cloud_detector.BANDS:
        k = read[band].shape[0] // rows  # 6, 3 or 1
        on_60m[band] = block_mean(read[band][: rows * k, : cols * k], k)
    return on_60m, np.stack([read[b][: rows * F, : cols * F] for b in ("B2", "B3", "B4", "B8")])


def flags(acquisition):
    """(s2cloudless's flags at 10 m, the spectral test's) of one acquisition (oscd_bands)."""
    on_60m, ten_m = acquisition
    coarse = np.stack([on_60m[b] for b in cloud_detector.BANDS])
    detected = cloud_detector.detect(lambda row, rows: coarse[:, row : row + rows], coarse.shape[1], {})
    return cloud_detector.on_fine_grid(detected, (0, 0) + ten_m.shape[1:]), clouds.bright_white(ten_m)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10980, help="10 m pixels a side of the tile timed")
    args = parser.parse_args()
    print("| acquisition | s2cloudless | spectral test | both |\n|---|---|---|---|")
    shares, largest = [], (0, None, None)
    for split in ("train", "test"):
        for site in oscd_sites(split):
            for date in (1, 2):
                bands = oscd_bands(os.path.join(oscd_root(), site, "imgs_%d" % date))
                found, spectral = flags(bands)
                shares.append((found.mean(), spectral.mean(), (found & spectral).mean()))
                print("| %s date %d | %.1f %% | %.1f %% | %.1f %% |"
                      % ((site, date) + tuple(100 * s for s in shares[-1])))
                if found.size > largest[0]:
                    largest = (found.size, "%s date %d" % (site, date), bands)
    print("| mean of %d | %.1f %% | %.1f %% | %.1f %% |" % ((len(shares),) + tuple(100 * np.mean(shares, 0))))
    _, name, bands = largest
    side = -(-args.size // F)
    coarse = np.stack([bands[0][b] for b in cloud_detector.BANDS])
    reps = (1, -(-side // coarse.shape[1]), -(-side // coarse.shape[2]))
    tile = np.tile(coarse, reps)[:, :side, :side]
    start = time.perf_counter()
    detected = cloud_detector.detect(lambda row, rows: tile[:, row : row + rows], side, {})
    seconds = time.perf_counter() - start
    print("\ns2cloudless on %d x %d pixels of 60 m (%s repeated): %.1f s, %.1f %% flagged"
          % (side, side, name, seconds, 100 * detected.mean()))


if __name__ == "__main__":
    main()
