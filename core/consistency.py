"""Radiometric consistency: sharpened bands averaged over each coarse pixel against the measured pixel."""
import numpy as np

from .bands import GROUPS, pixel_factor
from .degrade import block_mean
from .resample import bicubic

#: smooth back-projection steps before the final exact step
ITERATIONS = 3


def enforce(sharp, measured, factor):
    """Make every coarse block of `sharp` (N, bands, H, W) average exactly to `measured` (N, bands, H/f, W/f),
    spreading the correction smoothly.

    A few bicubic back-projections of the block residual (iterative back-projection), then the small
    remainder is added uniformly per block, so the method redistributes reflectance inside a coarse pixel
    and never invents it.
    """
    for _ in range(ITERATIONS):
        sharp = sharp + bicubic((measured - block_mean(sharp, factor)).astype(np.float32), factor)
    residual = measured - block_mean(sharp, factor)
    return sharp + residual.repeat(factor, -2).repeat(factor, -1)


def enforce_bands(sharp, net, arrays):
    """`enforce` on the output of a models.network.Network (N, bands, ...) for its block `arrays`: every band against
    the measured band at its own pixel size (a band the network gives at 5 m: against its 10 m or 20 m pixels)."""
    for f in sorted({pixel_factor(b) for b in net.bands}):
        index = [i for i, b in enumerate(net.bands) if pixel_factor(b) == f]
        measured = arrays[f][:, [GROUPS[f].index(net.bands[i]) for i in index]]
        sharp[:, index] = enforce(sharp[:, index], measured, f * net.per_10m)
    return sharp


def reach(factor):
    """10 m pixels beyond which `enforce` does not look (bicubic reaches 2 coarse pixels per step)."""
    return 2 * ITERATIONS * factor
