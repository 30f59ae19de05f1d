"""BANDS_OUT: the output holds exactly the bands picked, identical to those bands of a full run; a network runs only
where one of its bands is picked; a pick the inputs cannot serve is refused before any work."""
import os
import sys

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsMultiBandColorRenderer, QgsProcessingException, QgsProject, QgsSingleBandGrayRenderer
from qgis.PyQt.QtCore import QCoreApplication

import processing
from s2sr.core.errors import InputError
from s2sr.core.product import Product
from s2sr.run.options import Options
from s2sr.run.pipeline import super_resolve

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from qgis_cli import qgis_env as make_env, qgis_process  # noqa: E402


def read(path):
    ds = gdal.Open(path)
    return ds, {ds.GetRasterBand(i + 1).GetDescription(): ds.GetRasterBand(i + 1).ReadAsArray()
                for i in range(ds.RasterCount)}


@pytest.fixture(scope="module")
def full(small_scene, tmp_path_factory):
    """A run with every default and all three inputs: 12 bands, and its confidence map."""
    folder = tmp_path_factory.mktemp("full")
    out, errors = str(folder / "full.tif"), str(folder / "full_confidence.tif")
    super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"], small_scene["60m"]), out, Options(),
                  errors, log=lambda m: None)
    return read(out)[1], read(errors)[1]


def test_qgis_process_writes_the_picked_bands_of_a_full_run_without_the_6x_network(small_scene, tmp_path):
    env, inputs = make_env(str(tmp_path / "profile")), ["INPUT_10M=" + small_scene["10m"],
                                                        "INPUT_20M=" + small_scene["20m"],
                                                        "INPUT_60M=" + small_scene["60m"]]
    outputs, said = {}, {}
    for name, pick in (("full", []), ("swir", ["BANDS_OUT=B12,B11"])):
        outputs[name] = str(tmp_path / ("%s.tif" % name))
        proc = qgis_process(env, "run", "s2sr:superresolve", "--", *inputs, *pick, "OUTPUT=" + outputs[name])
        said[name] = proc.stdout + proc.stderr
        assert proc.returncode == 0, said[name]
    ds, bands = read(outputs["swir"])
    full = read(outputs["full"])[1]
    assert list(bands) == ["B11", "B12"] and ds.RasterCount == 2  # in Sentinel-2 order, whatever the pick's
    for name, data in bands.items():
        np.testing.assert_array_equal(data, full[name])
    assert ds.GetMetadataItem("S2SR_SCALES") == "2x:B5,B6,B7,B8A,B11,B12"  # the networks that ran
    assert "6x" not in ds.GetMetadataItem("S2SR_MODEL_VERSION") and "6x:" not in said["swir"] and "6x:" in said["full"]
    assert ds.GetMetadataItem("S2SR_SELF_CHECK").startswith("2x: B11 ") and "B5" not in ds.GetMetadataItem(
        "S2SR_SELF_CHECK")
    assert ds.GetMetadataItem("S2SR_CONSISTENCY_MAD").split()[::2] == ["B11", "B12"]


def test_a_pick_the_inputs_cannot_serve_is_refused_before_any_work(provider, small_scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    with pytest.raises(QgsProcessingException, match=r"60 m bands \(B1 B9\) needs the 60 m raster"):
        processing.run("s2sr:superresolve", {"INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"],
                                             "BANDS_OUT": ["B1", "B11"], "OUTPUT": out})
    with pytest.raises(InputError, match="choose at least one band to super-resolve"):
        super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"]), out, Options(bands=("B2", "B8")))
    with pytest.raises(InputError, match="B13 is not a Sentinel-2 band name"):
        super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"]), out, Options(bands=("B5", "B13")))
    assert os.listdir(str(tmp_path)) == []


def test_the_default_is_what_targets_and_include_10m_give(provider, small_scene, full, tmp_path):
    """No pick: the 12 bands of a full run, as before BANDS_OUT; a pick of all 12 gives the same file's pixels."""
    outputs = {}
    for name, pick in (("default", None), ("all", ["B%s" % b for b in (1, 2, 3, 4, 5, 6, 7, 8, "8A", 9, 11, 12)])):
        outputs[name] = str(tmp_path / ("%s.tif" % name))
        params = {"INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"], "INPUT_60M": small_scene["60m"],
                  "OUTPUT": outputs[name]}
        processing.run("s2sr:superresolve", dict(params, BANDS_OUT=pick) if pick else params)
    for path in outputs.values():
        _, bands = read(path)
        assert list(bands) == list(full[0])
        for band, data in bands.items():
            np.testing.assert_array_equal(data, full[0][band])


def test_the_confidence_map_covers_the_picked_sharpened_bands(small_scene, full, tmp_path):
    out, errors = str(tmp_path / "sr.tif"), str(tmp_path / "confidence.tif")
    written = super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"], small_scene["60m"]), out,
                            Options(bands=("B4", "B9", "B5")), errors, log=lambda m: None)
    assert written == ["B4", "B5", "B9"]
    _, expected = read(errors)
    assert list(expected) == ["B5", "B9"]
    for band, data in expected.items():
        np.testing.assert_array_equal(data, full[1][band])


def test_a_card_models_bands_can_be_picked(small_scene, tmp_path):
    from test_cards import export_card

    card = export_card(str(tmp_path), "nearest", ("B8", "B5", "B6"), 2)
    outputs = {}
    for name, pick in (("all", ()), ("picked", ("B6", "B8"))):
        path = str(tmp_path / ("%s.tif" % name))
        super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"]), path,
                      Options(model=card, bands=pick), log=lambda m: None)
        outputs[name] = read(path)[1]
    assert list(outputs["all"]) == ["B5", "B6", "B8"] and list(outputs["picked"]) == ["B6", "B8"]
    for band, data in outputs["picked"].items():
        np.testing.assert_array_equal(data, outputs["all"][band])
    with pytest.raises(InputError, match="the output cannot hold B11: this model and these inputs give B5 B6 B8"):
        super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"]), str(tmp_path / "no.tif"),
                      Options(model=card, bands=("B5", "B11")), log=lambda m: None)


@pytest.mark.parametrize("pick, renderer, name", [
    (["B5", "B6", "B7"], QgsMultiBandColorRenderer, "B5 B6 B7 at 10 m (S2 super-resolved)"),
    (["B11", "B12"], QgsSingleBandGrayRenderer, "B11 B12 at 10 m (S2 super-resolved)"),
])
def test_the_layer_is_styled_and_named_for_the_pick(provider, small_scene, tmp_path, pick, renderer, name):
    try:
        processing.runAndLoadResults("s2sr:superresolve", {
            "INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"], "BANDS_OUT": pick,
            "OUTPUT": str(tmp_path / "sr.tif")})
        QCoreApplication.processEvents()
        layers = QgsProject.instance().mapLayersByName(name)
        assert len(layers) == 1 and isinstance(layers[0].renderer(), renderer)
        if renderer is QgsMultiBandColorRenderer:  # red the longest wavelength, blue the shortest
            style = layers[0].renderer()
            assert (style.redBand(), style.greenBand(), style.blueBand()) == (3, 2, 1)
        else:
            assert layers[0].renderer().grayBand() == 2  # B12
    finally:
        QgsProject.instance().removeAllMapLayers()


def test_the_batch_command_takes_bands():
    from s2sr.batch.__main__ import parse

    _, args = parse(["in", "--out", "out", "--bands", "b12, B11"])
    assert args.bands == ("B12", "B11")
    with pytest.raises(SystemExit) as exit_:
        parse(["in", "--out", "out", "--bands", "B13"])
    assert exit_.value.code == 2
