"""GDAL raster access: opening inputs, reading windows of the planned grid, writing the GeoTIFF."""
import functools
import os

import numpy as np
from osgeo import gdal, gdal_array

from .bands import GROUPS
from .errors import InputError, tr
from .gdal_calls import checked, release_errors
from .grid import NAMES, plan as plan_grid, source_of
from .outputs import temporary_file

GDAL_CACHE = 512 * 2**20  # bytes of GDAL's block cache during a run (input tiles, blocks being written)

# GDAL's Python bindings are left in the mode QGIS or the caller set: every call that can fail goes through
# gdal_calls.checked, which gives GDAL's reason in either mode.


def bounded_gdal_cache(function):
    """Run `function` with GDAL's block cache at most GDAL_CACHE bytes (its default is 5 % of the machine's
    memory, gigabytes on large machines), restored afterwards."""
    @functools.wraps(function)
    def bounded(*args, **kwargs):
        cache = gdal.GetCacheMax()
        gdal.SetCacheMax(min(cache, GDAL_CACHE))
        try:
            return function(*args, **kwargs)
        finally:
            gdal.SetCacheMax(cache)
    return bounded


def open_input(path, factor, bands):
    """Open an input raster and check it has `bands` bands (an int, or a tuple of allowed counts)."""
    ds = checked(tr("cannot read the %s raster %s") % (NAMES[factor], path), gdal.Open, path)
    allowed = bands if isinstance(bands, tuple) else (bands,)
    if ds.RasterCount not in allowed:
        raise InputError(tr("the %s raster %s has %d band(s); it must have %s (see the algorithm help for the order)")
                         % (NAMES[factor], path, ds.RasterCount, " or ".join(map(str, allowed))))
    return ds


def open_scene(input_10m, input_20m, input_60m=None, extent=None):
    """Open the 10, 20 (and 60) m rasters and plan their common 10 m grid: ({factor: dataset}, plan)."""
    datasets = {1: open_input(input_10m, 1, 4), 2: open_input(input_20m, 2, 6)}
    if input_60m:
        datasets[6] = open_input(input_60m, 6, (2, 3))
    return datasets, plan_grid({f: source_of(ds, f) for f, ds in datasets.items()}, extent)


def band_offsets(offsets, factor):
    """The DN offsets (band -> DN, absent: 0) of the bands of one input group, shaped (bands, 1, 1)."""
    return np.array([(offsets or {}).get(b, 0.0) for b in GROUPS[factor]], np.float32)[:, None, None]


def read_window(ds, plan, factor, window, count):
    """First `count` bands of `ds` over a window of the plan's 10 m grid, as float32 (bands, rows, cols)."""
    row, col, rows, cols = window
    x, y = plan.offsets[factor]
    data = checked(tr("cannot read the %s raster %s") % (NAMES[factor], ds.GetDescription()), ds.ReadAsArray,
                   x + col // factor, y + row // factor, cols // factor, rows // factor,
                   band_list=list(range(1, count + 1)))
    return np.asarray(data, dtype=np.float32).reshape(count, rows // factor, cols // factor)


def nodata_value(ds):
    """The raster's no-data value; 0 for unsigned integers that declare none (Sentinel-2 products mark
    no data, e.g. outside the swath, with 0 without declaring it in the band files)."""
    band = ds.GetRasterBand(1)
    nodata = band.GetNoDataValue()
    if nodata is None and band.DataType in (gdal.GDT_Byte, gdal.GDT_UInt16, gdal.GDT_UInt32):
        return 0
    return nodata


def invalid(ds, data):
    """True where a pixel of (bands, rows, cols) data is NaN, infinite or the raster's no-data value."""
    bad = ~np.isfinite(data)
    nodata = nodata_value(ds)
    if nodata is not None:
        bad |= data == nodata
    return bad


def to_type(data, dtype):
    """Round and clip to an integer type's range; pass floats through."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(data), info.min, info.max).astype(dtype)
    return data.astype(dtype)


HALF_MAX = 65504.0  # the largest 16-bit float


class OutputRaster:
    """A GeoTIFF written under a temporary name beside the target and renamed only by `commit()`. half: Float32 bands
    stored as 16-bit floats (NBITS=16: 3 significant digits, values up to HALF_MAX), a quarter of the file and faster
    to write; GDAL and QGIS read them as Float32."""

    def __init__(self, path, plan, bands, gdal_type, nodata, metadata, offsets=None, block=256, half=False):
        self.tmp = temporary_file(path, ".tif")
        self.path = path
        self.dtype = gdal_array.GDALTypeCodeToNumericTypeCode(gdal_type)
        self.nodata = nodata
        self.offsets = offsets or {}
        # GeoTIFF tiles of the compute block's size (when TIFF allows it) are written whole, once; DEFLATE at level 1
        # compresses in half the time of the default level 6, the file within 2 % of its size (docs/benchmarks.md)
        side = block if block % 16 == 0 else 256
        options = ["TILED=YES", "BLOCKXSIZE=%d" % side, "BLOCKYSIZE=%d" % side, "COMPRESS=DEFLATE", "ZLEVEL=1",
                   "BIGTIFF=IF_SAFER", "PREDICTOR=%d" % (2 if np.issubdtype(self.dtype, np.integer) else 3)]
        self.half = half
        if half:
            options.append("NBITS=16")
        self.failed = tr("cannot write the output %s") % path
        try:
            self.ds = checked(self.failed, gdal.GetDriverByName("GTiff").Create, self.tmp, plan.cols, plan.rows,
                              len(bands), gdal_type, options)
        except InputError:
            os.remove(self.tmp)
            raise
        self.ds.SetGeoTransform((plan.x0, plan.res, 0, plan.y0, 0, -plan.res))
        self.ds.SetProjection(plan.wkt)
        self.ds.SetMetadata(metadata)
        self.bands = list(bands)
        for i, name in enumerate(self.bands, 1):
            band = self.ds.GetRasterBand(i)
            band.SetDescription(name)
            if nodata is not None:
                band.SetNoDataValue(nodata)

    def write(self, name, row, col, data, mask):
        """Write one band's window (10 m pixels) in the output type, its offset taken off (the inverse of the
        input's); masked or non-finite pixels become no-data."""
        mask = mask | ~np.isfinite(data)
        data = to_type(np.where(mask, 0, data - self.offsets.get(name, 0.0)), self.dtype)
        if self.half:
            data = np.clip(data, -HALF_MAX, HALF_MAX)
        if self.nodata is not None:
            if np.issubdtype(self.dtype, np.integer):  # a valid pixel must not read as no-data
                data[data == self.nodata] = self.nodata + (1 if self.nodata < np.iinfo(self.dtype).max else -1)
            data[mask] = self.nodata
        checked(self.failed, self.ds.GetRasterBand(self.bands.index(name) + 1).WriteArray, data, col, row)

    def commit(self):
        """Flush, close and move the finished file to its name; a failure to write (a full disk) raises InputError
        naming the reason, and the caller discards the file."""
        def close():
            with release_errors([]) as lost:
                self.ds.FlushCache()
                self.ds = None
            if lost:
                raise RuntimeError(lost[0])
            return gdal.CE_Failure if gdal.GetLastErrorType() >= gdal.CE_Failure else gdal.CE_None

        checked(self.failed, close)
        os.replace(self.tmp, self.path)

    def discard(self):
        """Drop the unfinished file."""
        with release_errors([]):  # the reason is reported already
            self.ds = None
        if os.path.exists(self.tmp):
            os.remove(self.tmp)


def stack_bands(paths, vrt_path, **options):
    """A multi-band VRT referencing single-band files in the given order (nothing is copied); `options`: more of
    gdal.BuildVRT's (e.g. resolution="lowest", resampleAlg="average" for bands of several pixel sizes)."""
    vrt = checked(tr("cannot stack the band files %s") % ", ".join(paths), gdal.BuildVRT, vrt_path, list(paths),
                  separate=True, **options)
    if vrt.RasterCount != len(paths):  # BuildVRT leaves out what it cannot place
        used = set(vrt.GetFileList() or [])
        raise InputError(tr("cannot use %s: unreadable, or not georeferenced like the other bands (GDAL: %s)")
                         % (", ".join(p for p in paths if p not in used), gdal.GetLastErrorMsg()))
    vrt.FlushCache()
    return vrt_path
