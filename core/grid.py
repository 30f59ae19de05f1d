"""Pairing the 10/20/60 m rasters by georeferencing and planning the common 10 m output grid."""
from dataclasses import dataclass

from osgeo import osr

from .errors import ExtentError, InputError, tr

NAMES = {1: "10 m", 2: "20 m", 6: "60 m"}


@dataclass
class Source:
    """One input raster's grid: factor (1, 2 or 6 times the 10 m pixel), origin, pixel size, size."""
    factor: int
    x0: float
    y0: float
    res: float
    cols: int
    rows: int
    wkt: str


@dataclass
class Plan:
    """The output grid on the 10 m pixel and where it starts in each source, in that source's pixels."""
    x0: float
    y0: float
    res: float
    cols: int
    rows: int
    block: int  # output rows/cols and every window are multiples of this (the coarsest factor used)
    offsets: dict  # factor -> (col, row) of the output origin in that source's pixels
    wkt: str


def source_of(ds, factor):
    """Read a dataset's grid; refuses rotated or non-square pixels."""
    gt = ds.GetGeoTransform()
    if gt[2] != 0 or gt[4] != 0 or gt[5] >= 0 or abs(abs(gt[5]) - gt[1]) > 1e-6 * gt[1]:
        raise InputError(tr("the %s raster must be north-up with square pixels (geotransform %s); "
                         "warp it to its UTM grid first") % (NAMES[factor], gt))
    return Source(factor, gt[0], gt[3], gt[1], ds.RasterXSize, ds.RasterYSize, ds.GetProjection())


def _whole(value, what):
    n = round(value)
    if abs(value - n) > 1e-3:
        raise InputError(what)
    return n


def plan(sources, extent=None):
    """Check that the grids nest (ratios 2 and 6, same CRS, edges on edges) and intersect them.

    `sources` maps factor -> Source and must hold factor 1. The output covers the common extent,
    snapped inwards to the coarsest grid so that every window holds whole coarse pixels. With `extent`
    (xmin, ymin, xmax, ymax in the 10 m raster's CRS) it covers only the coarse pixels that the extent
    touches, within the common extent.
    """
    ref = sources[1]
    ref_srs = osr.SpatialReference(wkt=ref.wkt)
    for f, s in sources.items():
        if f == 1:
            continue
        srs = osr.SpatialReference(wkt=s.wkt)
        if not ref_srs.IsSame(srs):
            raise InputError(tr("the %s raster's CRS (%s) differs from the 10 m raster's (%s): reproject it to the "
                             "10 m raster's CRS") % (NAMES[f], srs.GetName(), ref_srs.GetName()))
        ratio = s.res / ref.res
        if abs(ratio - f) > 1e-6 * f:
            raise InputError(tr("the %s raster's pixel (%g) is %.4g times the 10 m raster's pixel (%g); it must be "
                             "exactly %d times: check that the inputs are the right bands at native resolution")
                             % (NAMES[f], s.res, ratio, ref.res, f))
    coarse = sources[max(sources)]
    for f, s in sources.items():
        for a, b in ((s.x0, coarse.x0), (s.y0, coarse.y0)):
            _whole((a - b) / s.res, tr("the %s and %s grids are shifted by a fraction of a pixel (%g): their pixel "
                                       "edges must line up") % (NAMES[f], NAMES[coarse.factor], a - b))
    left = max(s.x0 for s in sources.values())
    right = min(s.x0 + s.cols * s.res for s in sources.values())
    top = min(s.y0 for s in sources.values())
    bottom = max(s.y0 - s.rows * s.res for s in sources.values())
    step = coarse.res
    if extent is not None:
        xmin, ymin, xmax, ymax = extent
        left = max(left, coarse.x0 + _floor((xmin - coarse.x0) / step) * step)
        right = min(right, coarse.x0 + _ceil((xmax - coarse.x0) / step) * step)
        top = min(top, coarse.y0 - _floor((coarse.y0 - ymax) / step) * step)
        bottom = max(bottom, coarse.y0 - _ceil((coarse.y0 - ymin) / step) * step)
    left = coarse.x0 + _ceil((left - coarse.x0) / step) * step
    top = coarse.y0 - _ceil((coarse.y0 - top) / step) * step
    blocks_x = int((right - left) / step + 1e-6)
    blocks_y = int((top - bottom) / step + 1e-6)
    if blocks_x < 1 or blocks_y < 1:
        if extent is not None:
            raise ExtentError(tr("the extent %s does not overlap the input rasters: choose an area inside the scene")
                              % (extent,))
        raise InputError(tr("the input rasters do not overlap (by at least one %s pixel): choose bands of the same "
                         "scene") % NAMES[coarse.factor])
    offsets = {f: (round((left - s.x0) / s.res), round((s.y0 - top) / s.res)) for f, s in sources.items()}
    return Plan(left, top, ref.res, blocks_x * coarse.factor, blocks_y * coarse.factor, coarse.factor, offsets,
                ref.wkt)


def _ceil(v):
    n = round(v)
    return n if abs(v - n) < 1e-6 else int(-(-v // 1))


def _floor(v):
    return -_ceil(-v)
