"""Radiometric consistency: sharpened bands averaged over each coarse pixel against the measured pixel."""
from torch.nn import functional as F

#: smooth back-projection steps before the final exact step
ITERATIONS = 3


def block_mean(x, factor):
    """Mean over factor x factor blocks of a (N, bands, H, W) tensor."""
    return F.avg_pool2d(x, factor)


def enforce(sharp, measured, factor):
    """Make every coarse block of `sharp` average exactly to `measured`, spreading the correction smoothly.

    A few bicubic back-projections of the block residual (iterative back-projection), then the small
    remainder is added uniformly per block, so the method redistributes reflectance inside a coarse pixel
    and never invents it.
    """
    for _ in range(ITERATIONS):
        residual = measured - block_mean(sharp, factor)
        sharp = sharp + F.interpolate(residual, scale_factor=factor, mode="bicubic", align_corners=False)
    residual = measured - block_mean(sharp, factor)
    return sharp + residual.repeat_interleave(factor, 2).repeat_interleave(factor, 3)


def reach(factor):
    """10 m pixels beyond which `enforce` does not look (bicubic reaches 2 coarse pixels per step)."""
    return 2 * ITERATIONS * factor
