"""Which pixels of an acquisition may enter a multi-frame fusion: not cloud, cloud shadow, cirrus, defective or no
data (and not snow, where asked).

L2A products carry the answer in their scene classification (SCL). Elsewhere (L1C, a raster of B2 B3 B4 B8) the
plugin uses a spectral test on the visible bands: a cloud is bright and white, so a pixel whose blue, green and red
reflectances are all above 0.2 and within 25 % of their mean is flagged, then the flags are grown by one pixel.
It misses thin cloud and cloud shadows, and flags snow and bright white roofs: where L2A products are at hand, they
are the better input."""
import numpy as np

#: SCL classes never used: 0 no data, 1 saturated or defective, 3 cloud shadows, 8 and 9 cloud (medium, high
#: probability), 10 thin cirrus; 11 snow or ice where asked
SCL_UNUSABLE = (0, 1, 3, 8, 9, 10)
SCL_SNOW = 11
BRIGHT = 2000  # DN (reflectance x 10000): the spectral test's threshold on B2, B3 and B4
WHITE = 0.25  # the spectral test's largest spread of B2, B3, B4 around their mean


def scl_unusable(classes, snow=False):
    """True where a scene classification (integer array) says a pixel must not be used."""
    return np.isin(classes, SCL_UNUSABLE + ((SCL_SNOW,) if snow else ()))


def bright_white(bands):
    """The spectral test on (B2, B3, B4, B8) DN (offsets removed), (4, rows, cols): True where cloud is likely."""
    visible = bands[:3].astype(np.float64)
    level = visible.mean(0)
    spread = (visible.max(0) - visible.min(0)) / np.maximum(level, 1)
    return grow((visible.min(0) > BRIGHT) & (spread < WHITE))


def grow(flags):
    """Flags grown by one pixel in the 8 directions."""
    padded = np.pad(flags, 1)
    rows, cols = flags.shape
    return np.logical_or.reduce([padded[i : i + rows, j : j + cols] for i in range(3) for j in range(3)])
