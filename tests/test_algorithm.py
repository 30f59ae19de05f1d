"""The Processing algorithm s2sr:superresolve in QGIS: registration, real runs, errors, cancellation."""
import os

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback

import processing
from s2sr.core.pipeline import super_resolve

PARAMETERS = {"INPUT_10M", "INPUT_20M", "INPUT_60M", "TARGETS", "INCLUDE_10M", "MODEL", "DEVICE", "TILE_SIZE",
              "OUTPUT"}


def run(**params):
    return processing.run("s2sr:superresolve", params)


def test_provider_and_algorithm_are_registered(provider):
    registry = QgsApplication.processingRegistry()
    assert registry.providerById("s2sr") is provider
    alg = registry.algorithmById("s2sr:superresolve")
    assert alg is not None and alg.displayName() == "Super-resolve Sentinel-2"
    assert {p.name() for p in alg.parameterDefinitions()} == PARAMETERS
    assert "dsen2_oscd" in alg.parameterDefinition("MODEL").options()


def test_real_scene_with_real_weights(provider, scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    result = run(INPUT_10M=scene["10m"], INPUT_20M=scene["20m"], INPUT_60M=scene["60m"], OUTPUT=out)
    assert result["OUTPUT"] == out
    ds = gdal.Open(out)
    assert ds.GetSpatialRef().GetAuthorityCode(None) == "32618"
    assert ds.GetGeoTransform() == (435780, 10, 0, 4179420, 0, -10)
    assert (ds.RasterXSize, ds.RasterYSize) == (1926, 1938)
    names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]
    assert names == ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12"]
    assert all(ds.GetRasterBand(i + 1).DataType == gdal.GDT_UInt16 for i in range(ds.RasterCount))
    # radiometry: each sharpened band keeps the mean of the measured band over the same area
    offsets = {"20m": (3, 2, 2), "60m": (1, 1, 6)}  # column, row of the output origin; pixel factor
    for band, key, index in (("B11", "20m", 5), ("B5", "20m", 1), ("B9", "60m", 2)):
        col, row, factor = offsets[key]
        source = gdal.Open(scene[key])
        measured = source.GetRasterBand(index).ReadAsArray(col, row, 1926 // factor, 1938 // factor)
        sharpened = ds.GetRasterBand(names.index(band) + 1).ReadAsArray()
        assert abs(sharpened.mean() / measured.mean() - 1) < 0.01, band
    # the 10 m bands are copied unchanged
    b2 = gdal.Open(scene["10m"]).ReadAsArray(5, 4, 1926, 1938, band_list=[1])
    np.testing.assert_array_equal(ds.GetRasterBand(2).ReadAsArray(), b2)


def test_targets_default_to_20m_bands_without_60m_input(provider, small_scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    run(INPUT_10M=small_scene["10m"], INPUT_20M=small_scene["20m"], INCLUDE_10M=False, OUTPUT=out)
    ds = gdal.Open(out)
    assert [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)] == [
        "B5", "B6", "B7", "B8A", "B11", "B12"]
    assert ds.GetGeoTransform()[1] == 10


def test_tiled_run_equals_single_window_run(small_scene, tmp_path):
    outputs = []
    for tile in (36, 4096):
        outputs.append(str(tmp_path / ("t%d.tif" % tile)))
        super_resolve(small_scene["10m"], small_scene["20m"], outputs[-1], input_60m=small_scene["60m"],
                      targets=("20m", "60m"), tile_size=tile, log=lambda m: None)
    tiled, whole = (gdal.Open(p).ReadAsArray().astype(int) for p in outputs)
    assert tiled.shape == whole.shape and whole.shape[1] >= 150
    assert np.abs(tiled - whole).max() <= 1


class CancelAfterFirstTile(QgsProcessingFeedback):
    def setProgress(self, progress):  # noqa: N802
        super().setProgress(progress)
        if progress > 0:
            self.cancel()


def test_cancel_leaves_no_file(provider, small_scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    with pytest.raises(QgsProcessingException):
        processing.run("s2sr:superresolve", {"INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"],
                                             "TILE_SIZE": 36, "OUTPUT": out}, feedback=CancelAfterFirstTile())
    assert os.listdir(tmp_path) == []


def _warp(path, folder, name, **options):
    return gdal.Translate(os.path.join(folder, name), path, **options).GetDescription()


@pytest.mark.parametrize("case, message", [
    ("crs", "CRS"),
    ("bands", "has 6 band"),
    ("ratio", "must be exactly 2 times"),
    ("60m missing", "needs the 60 m raster"),
])
def test_wrong_inputs_are_refused_with_a_clear_message(provider, small_scene, tmp_path, case, message):
    folder = str(tmp_path)
    params = {"INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"], "OUTPUT": str(tmp_path / "sr.tif")}
    if case == "crs":
        params["INPUT_20M"] = _warp(small_scene["20m"], folder, "utm17.tif", outputSRS="EPSG:32617")
    elif case == "bands":
        params["INPUT_10M"] = small_scene["20m"]
    elif case == "ratio":
        params["INPUT_20M"] = _warp(small_scene["20m"], folder, "20m_at_30m.tif", xRes=30, yRes=30)
    else:
        params["TARGETS"] = 1
    with pytest.raises(QgsProcessingException, match=message):
        run(**params)
    assert not os.path.exists(params["OUTPUT"])
    assert not [f for f in os.listdir(folder) if f.startswith(".s2sr-")]
