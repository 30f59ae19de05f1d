"""HPF pan-sharpening (high-pass filtering), the classical baseline the networks are scored against and that the
self-check falls back on: bicubic upsampling plus the detail of a pan band fitted to each band from the 10 m bands
over the scene (`core.scene`), the detail being the pan band minus its own degraded (Wald protocol) and
bicubic-upsampled self. Local: it runs tile by tile like the networks, within their margins."""
import numpy as np

from .degrade import block_mean, blur
from .resample import bicubic
from .scene import pan_bands


def margin(scale):
    """10 m pixels of context HPF needs on each side: the blur, a block, and bicubic's reach of 2 coarse pixels."""
    return int(4.0 / scale + 0.5) + 3 * scale


def hpf(hi, low, stats, scale):
    """hi (N, 4, H, W) DN of the 10 m bands, low (N, bands, H/scale, W/scale) the bands to sharpen, stats the scene's
    SceneStats (their pan weights are used): the sharpened bands (N, bands, H, W), float32 numpy arrays."""
    pan = pan_bands(stats, hi.astype(np.float32))
    smooth = bicubic(block_mean(blur(pan, 1.0 / scale), scale), scale)
    return bicubic(low.astype(np.float32), scale) + pan - smooth
