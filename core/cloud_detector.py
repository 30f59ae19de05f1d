"""Clouds of L1C acquisitions by Sentinel Hub's own detector, s2cloudless (a LightGBM pixel classifier on ten
top-of-atmosphere reflectances; on PyPI, its model inside the package), where the package is installed.

It runs on a coarse grid, FACTOR times the 10 m pixel (60 m: the pixel of B1, B9 and B10, three of its inputs), with
the package's own defaults (probability above 0.4, averaged over a disk of 4 pixels, flags grown by a disk of 2),
and its mask is brought back to the 10 m pixel by repetition. It finds thick cloud and cirrus (B10); like the
spectral test of core.clouds, it does not find cloud shadows. Without the package, core.clouds' spectral test runs.
"""
import functools
import importlib
import logging

import numpy as np

from .devices import importable

LOG = logging.getLogger(__name__)

#: s2cloudless's inputs, in its order
BANDS = ("B1", "B2", "B4", "B5", "B8", "B8A", "B9", "B10", "B11", "B12")
FACTOR = 6  # 10 m pixels a side of the grid it runs on
THRESHOLD, AVERAGE_OVER, DILATION = 0.4, 4, 2  # the package's defaults (pixels of that grid)
STRIP = 128  # rows of that grid classified at a time (memory: 10 bands x STRIP x the grid's columns)


@functools.lru_cache(maxsize=1)
def available():
    """Whether s2cloudless can be imported (imported once, when a series first holds an L1C product): an install
    that is broken (a package it needs is missing) counts as none, and the log gives the reason."""
    if not importable("s2cloudless"):
        return False
    try:
        importlib.import_module("s2cloudless")
    except Exception as err:  # an incomplete install raises ImportError, a numpy mismatch others
        LOG.warning("s2cloudless is installed but cannot be imported (%s): the spectral test is used", err)
        return False
    return True


def detect(read_rows, rows, offsets):
    """Cloud flags (bool (rows, cols)) of an acquisition on the coarse grid: `read_rows(row, count)` gives the
    BANDS' DN (count, ...) as (10, count, cols); `offsets` (band -> DN) are added before the reflectance
    (DN / 10000) is classified; pixels with no data (0 in every band) are not flagged."""
    from s2cloudless import S2PixelCloudDetector

    detector = S2PixelCloudDetector(threshold=THRESHOLD, average_over=AVERAGE_OVER, dilation_size=DILATION)
    add = np.array([offsets.get(b, 0.0) for b in BANDS], np.float32)[:, None, None]
    probability, empty = [], []
    for row in range(0, rows, STRIP):
        dn = np.asarray(read_rows(row, min(STRIP, rows - row)), np.float32)
        empty.append((dn == 0).all(0))
        reflectance = np.moveaxis(np.maximum(dn + add, 0) / 10000, 0, -1)[None]
        probability.append(detector.get_cloud_probability_maps(reflectance)[0])
    probability = np.where(np.concatenate(empty), 0, np.concatenate(probability))
    return detector.get_mask_from_prob(probability[None])[0].astype(bool)


def on_fine_grid(flags, window):
    """The coarse `flags` over a `window` (row, col, rows, cols) of the 10 m grid, each repeated FACTOR x FACTOR."""
    row, col, rows, cols = window
    part = flags[row // FACTOR : (row + rows - 1) // FACTOR + 1, col // FACTOR : (col + cols - 1) // FACTOR + 1]
    fine = part.repeat(FACTOR, 0).repeat(FACTOR, 1)
    return fine[row % FACTOR : row % FACTOR + rows, col % FACTOR : col % FACTOR + cols]
