"""Bad input, awkward input, faults, seams, determinism, consistency and endurance (core and algorithm)."""
import os
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from osgeo import gdal
from qgis.core import QgsProcessingException

import processing
from conftest import crop
from s2sr import models
from s2sr.run import pipeline
from s2sr.core.errors import InputError
from s2sr.core.devices import Runtime
from s2sr.core.product import Product
from s2sr.run.options import Options
from s2sr.run.pipeline import super_resolve


def quiet(product, output, options):
    return super_resolve(product, output, options, log=lambda message: None)


def read(path):
    ds = gdal.Open(path)
    return ds, ds.ReadAsArray()


def leftovers(folder):
    return [f for f in os.listdir(folder) if f.startswith(".s2sr-")]


# --- brightness ---------------------------------------------------------------------------------------------

def test_a_brighter_scene_gives_a_proportionally_brighter_output(small_scene, tmp_path):
    """Through the whole pipeline (sampled scene statistics, tiles, GeoTIFF): every input band x 1.5 gives every
    output band x 1.5, up to the integer rounding of the original output (float32: in bfloat16 the rounding of the
    convolutions moves with the input's last bits)."""
    bright = {k: gdal.Translate(str(tmp_path / ("%s_bright.tif" % k)), p, outputType=gdal.GDT_Float32,
                                scaleParams=[[0, 10000, 0, 15000]]).GetDescription() for k, p in small_scene.items()}
    outputs = []
    for inputs, name in ((small_scene, "plain.tif"), (bright, "bright.tif")):
        quiet(Product.from_stacks(inputs["10m"], inputs["20m"], inputs["60m"]), str(tmp_path / name),
              Options(targets=("20m", "60m"), runtime=Runtime(precision="float32")))
        outputs.append(gdal.Open(str(tmp_path / name)).ReadAsArray().astype(np.float64))
    plain, brighter = outputs
    kept = plain > 1  # the integer output clips at 0 (and turns a valid 0 into 1): compare the rest
    assert plain.max() > 1000 and kept.mean() > 0.99
    np.testing.assert_allclose(brighter[kept], 1.5 * plain[kept], atol=0.8)


# --- bad input: a clear error and no output file ---------------------------------------------------------

def test_rasters_that_do_not_overlap(provider, scene, small_scene, tmp_path):
    far = crop({"20m": scene["20m"]}, str(tmp_path), (450000, 4165000, 452000, 4163000))["20m"]
    out = str(tmp_path / "sr.tif")
    with pytest.raises(QgsProcessingException, match="do not overlap"):
        processing.run("s2sr:superresolve", {"INPUT_10M": small_scene["10m"], "INPUT_20M": far, "OUTPUT": out})
    assert not os.path.exists(out) and not leftovers(tmp_path)


def test_unreadable_input(small_scene, tmp_path, gdal_exceptions):
    bogus = tmp_path / "10m.tif"
    bogus.write_text("not a raster")
    with pytest.raises(InputError, match="cannot read the 10 m raster .*10m.tif"):
        quiet(Product.from_stacks(str(bogus), small_scene["20m"]), str(tmp_path / "sr.tif"), Options())
    assert not os.path.exists(tmp_path / "sr.tif")


def test_weights_of_the_first_version_are_refused_with_the_reason(small_scene, tmp_path):
    """0.1 networks took DN / 2000 and no pan band: their head has fewer input channels."""
    import torch

    folder = tmp_path / "models"
    folder.mkdir()
    for scale in (2, 6):
        ckpt = torch.load(models.weights_path("dsen2_oscd", scale), weights_only=True)
        pans = 4 * (6 if scale == 2 else 2)
        ckpt["state_dict"]["head.weight"] = ckpt["state_dict"]["head.weight"][:, :-pans]
        torch.save(ckpt, str(folder / ("old_%dx.pt" % scale)))
    with pytest.raises(OSError, match="old_2x.pt: not a network of this plugin version .*made before 0.2"):
        quiet(Product.from_stacks(small_scene["10m"], small_scene["20m"]), str(tmp_path / "sr.tif"),
              Options(model="old", model_dirs=(str(folder),)))


def test_truncated_input(small_scene, tmp_path, gdal_exceptions):
    path = str(tmp_path / "20m.tif")
    gdal.Translate(path, small_scene["20m"], creationOptions=["COMPRESS=DEFLATE", "TILED=YES", "BLOCKXSIZE=16",
                                                                "BLOCKYSIZE=16"])
    with open(path, "rb") as f:
        head = f.read(os.path.getsize(path) // 2)
    with open(path, "wb") as f:
        f.write(head)
    with pytest.raises(InputError, match="cannot read the 20 m raster .*20m.tif"):
        quiet(Product.from_stacks(small_scene["10m"], path), str(tmp_path / "sr.tif"), Options())
    assert not os.path.exists(tmp_path / "sr.tif") and not leftovers(tmp_path)


@pytest.mark.parametrize("broken", ["corrupt", "missing"])
def test_bad_weights_file_is_named(small_scene, tmp_path, broken):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(models.weights_path("dsen2_oscd", 2), folder / "m_2x.pt")
    (folder / "m_6x.pt").write_bytes(b"\x00garbage")
    if broken == "missing":
        (folder / "m_2x.pt").unlink()
    target = "60m" if broken == "corrupt" else "20m"
    name = "m_6x.pt" if broken == "corrupt" else "m_2x.pt"
    with pytest.raises(OSError, match="cannot read model weights .*%s" % name):
        quiet(Product.from_stacks(small_scene["10m"], small_scene["20m"], small_scene["60m"]), str(tmp_path / "sr.tif"),
              Options(targets=(target,), model="m", model_dirs=(str(folder),)))
    assert not os.path.exists(tmp_path / "sr.tif")


def test_output_that_cannot_be_written(provider, small_scene, tmp_path, gdal_exceptions):
    out = str(tmp_path / "no such folder" / "sr.tif")
    with pytest.raises(QgsProcessingException, match="cannot write the output"):
        processing.run("s2sr:superresolve", {"INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"],
                                             "OUTPUT": out})


def test_a_failure_mid_run_leaves_no_file(small_scene, tmp_path, monkeypatch):
    calls = []
    original = pipeline.BlockRunner._process

    def failing(*args):
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError("simulated")
        return original(*args)

    monkeypatch.setattr(pipeline.BlockRunner, "_process", failing)
    with pytest.raises(MemoryError):
        quiet(Product.from_stacks(small_scene["10m"], small_scene["20m"]), str(tmp_path / "sr.tif"), Options(block=60))
    assert os.listdir(tmp_path) == []


def test_output_gets_the_usual_permissions(small_scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    previous = os.umask(0o022)
    try:
        quiet(Product.from_stacks(small_scene["10m"], small_scene["20m"]), out, Options())
    finally:
        os.umask(previous)
    assert os.stat(out).st_mode & 0o777 == 0o644


# --- awkward but legal input -------------------------------------------------------------------------

def test_raster_smaller_than_the_receptive_field(scene, tmp_path):
    box = (440040, 4169880, 440110, 4169810)  # 7 x 7 px at 10 m, holding one whole 60 m pixel
    small = crop({"10m": scene["10m"]}, str(tmp_path), box)
    small.update(crop({k: scene[k] for k in ("20m", "60m")}, str(tmp_path), (439920, 4170000, 440220, 4169700)))
    assert gdal.Open(small["10m"]).RasterXSize == 7
    out = str(tmp_path / "sr.tif")
    quiet(Product.from_stacks(small["10m"], small["20m"], small["60m"]), out, Options(targets=("20m", "60m")))
    ds, data = read(out)
    assert (ds.RasterXSize, ds.RasterYSize) == (6, 6) and ds.GetGeoTransform()[0] == 440040
    assert data.min() > 0


def test_float_input_with_nan(small_scene, tmp_path):
    paths = {k: str(tmp_path / ("%s.tif" % k)) for k in small_scene}
    for key, path in small_scene.items():
        ds = gdal.Translate(paths[key], path, outputType=gdal.GDT_Float32)
        if key == "10m":
            band = ds.GetRasterBand(3)
            band.WriteArray(np.full((4, 6), np.nan, np.float32), 30, 20)
        ds = None
    out = str(tmp_path / "sr.tif")
    quiet(Product.from_stacks(paths["10m"], paths["20m"], paths["60m"]), out, Options(targets=("20m", "60m")))
    ds, data = read(out)
    assert ds.GetRasterBand(1).DataType == gdal.GDT_Float32
    assert np.isfinite(data).all()
    nodata = ds.GetRasterBand(1).GetNoDataValue()
    assert nodata == 0
    # the NaN block lies in 10 m rows 20-23, cols 30-35 of the input; the output starts at the same corner here
    source = gdal.Open(paths["10m"]).GetGeoTransform()
    offset = [round((a - b) / 10) for a, b in zip(ds.GetGeoTransform()[::3], source[::3])]
    r, c = 20 - (-offset[1]), 30 - offset[0]
    assert np.all(data[:, r : r + 4, c : c + 6] == nodata)
    assert (data != nodata).mean() > 0.95


def test_undeclared_zeros_of_sentinel2_bands_are_no_data(small_scene, tmp_path):
    """Band files from Sentinel-2 products mark no data (outside the swath) with 0 without declaring it."""
    path = str(tmp_path / "20m.tif")
    ds = gdal.Translate(path, small_scene["20m"])
    assert ds.GetRasterBand(1).GetNoDataValue() is None
    for i in range(6):
        ds.GetRasterBand(i + 1).WriteArray(np.zeros((90, 30), np.uint16), 0, 0)  # a swath edge: the left 600 m
    ds = None
    out = str(tmp_path / "sr.tif")
    bands = quiet(Product.from_stacks(small_scene["10m"], path), out, Options(include_10m=False))
    ds, data = read(out)
    assert ds.GetRasterBand(1).GetNoDataValue() == 0 and len(bands) == 6
    assert ds.GetGeoTransform()[0] == gdal.Open(path).GetGeoTransform()[0]
    assert np.all(data[:, :, :60] == 0) and np.all(data[:, :, 60:] > 0)
    # no smear: next to the edge the values are like those further in, not pulled towards 0
    assert data[:, :, 60:62].mean() > 0.8 * data[:, :, 70:90].mean()


def test_saturated_pixels(small_scene, tmp_path):
    path = str(tmp_path / "20m.tif")
    ds = gdal.Translate(path, small_scene["20m"])
    ds.GetRasterBand(5).WriteArray(np.full((10, 10), 25000, np.uint16), 40, 40)  # B11
    ds = None
    out = str(tmp_path / "sr.tif")
    bands = quiet(Product.from_stacks(small_scene["10m"], path), out, Options(include_10m=False))
    ds, data = read(out)
    b11 = data[bands.index("B11")]
    inner = b11[2 * 40 + 4 : 2 * 50 - 4, 2 * 40 + 4 : 2 * 50 - 4]  # output starts at the 20 m corner here
    assert gdal.Open(out).GetGeoTransform()[0] == gdal.Open(path).GetGeoTransform()[0]
    assert inner.min() > 20000


def test_all_no_data_input(small_scene, tmp_path):
    path = str(tmp_path / "20m.tif")
    ds = gdal.Translate(path, small_scene["20m"], noData=0)
    for i in range(6):
        ds.GetRasterBand(i + 1).Fill(0)
    ds = None
    out = str(tmp_path / "sr.tif")
    quiet(Product.from_stacks(small_scene["10m"], path), out, Options())
    ds, data = read(out)
    assert ds.GetRasterBand(1).GetNoDataValue() == 0 and np.all(data == 0)


# --- seams and determinism ---------------------------------------------------------------------------

@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(width=st.integers(2, 20), height=st.integers(2, 20), block=st.integers(6, 60), consistent=st.booleans())
def test_blocks_leave_no_seams(small_scene, tmp_path_factory, width, height, block, consistent):
    """Random scene sizes (in 60 m pixels) and block sizes: the result equals one whole window within 1 DN (in
    float32: in bfloat16 the convolutions of small and large blocks may round differently, by a few DN)."""
    folder = str(tmp_path_factory.mktemp("seams"))
    x0, y0 = 440040, 4169880
    part = crop(small_scene, folder, (x0, y0, x0 + 60 * width, y0 - 60 * height))
    outputs = []
    for size in (block * 6, 4096):
        outputs.append(os.path.join(folder, "b%d.tif" % size))
        quiet(Product.from_stacks(part["10m"], part["20m"], part["60m"]), outputs[-1],
              Options(targets=("20m", "60m"), block=size, consistency=consistent, runtime=Runtime(precision="float32")))
    blocked, whole = (read(p)[1].astype(int) for p in outputs)
    assert blocked.shape == whole.shape and np.abs(blocked - whole).max() <= 1


def test_same_input_gives_identical_output_whatever_the_tile_size(small_scene, tmp_path):
    """Bit-identical across runs and across tile sizes (the networks always run on the same blocks)."""
    outputs = [str(tmp_path / ("%d.tif" % i)) for i in range(3)]
    for path, tile in zip(outputs, (60, 60, 4096)):
        quiet(Product.from_stacks(small_scene["10m"], small_scene["20m"], small_scene["60m"]), path,
              Options(targets=("20m", "60m"), tile_size=tile, block=60))
    first, again, one_tile = (read(p)[1] for p in outputs)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, one_tile)


# --- radiometric consistency -------------------------------------------------------------------------

def _deviation(path):
    report = gdal.Open(path).GetMetadataItem("S2SR_CONSISTENCY_MAD").split()
    return dict(zip(report[::2], map(float, report[1::2])))


def test_consistency_is_reported_and_can_be_enforced(small_scene, tmp_path):
    free, exact = str(tmp_path / "free.tif"), str(tmp_path / "exact.tif")
    for path, enforce in ((free, False), (exact, True)):
        quiet(Product.from_stacks(small_scene["10m"], small_scene["20m"], small_scene["60m"]), path,
              Options(targets=("20m", "60m"), consistency=enforce))
    free_dev, exact_dev = _deviation(free), _deviation(exact)
    assert set(free_dev) == {"B5", "B6", "B7", "B8A", "B11", "B12", "B1", "B9"}
    assert all(v > 0.5 for v in free_dev.values())
    assert all(v < 0.01 for v in exact_dev.values())
    # and in the written file: each 2 x 2 block of B11 averages to the measured 20 m pixel within rounding
    ds, data = read(exact)
    names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]
    b11 = data[names.index("B11")].astype(float)
    blocks = b11.reshape(b11.shape[0] // 2, 2, b11.shape[1] // 2, 2).mean(axis=(1, 3))
    src = gdal.Open(small_scene["20m"])
    col = round((ds.GetGeoTransform()[0] - src.GetGeoTransform()[0]) / 20)
    row = round((src.GetGeoTransform()[3] - ds.GetGeoTransform()[3]) / 20)
    measured = src.GetRasterBand(5).ReadAsArray(col, row, blocks.shape[1], blocks.shape[0])
    assert np.abs(blocks - measured).max() <= 0.5


# --- endurance ---------------------------------------------------------------------------------------

def _rss_kb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))


def test_thirty_runs_without_growth_or_leaked_files(provider, small_scene, tmp_path):
    params = {"INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"], "INPUT_60M": small_scene["60m"]}
    rss, fds = [], []
    for i in range(30):
        processing.run("s2sr:superresolve", dict(params, OUTPUT=str(tmp_path / ("sr%d.tif" % i))))
        os.remove(tmp_path / ("sr%d.tif" % i))
        rss.append(_rss_kb())
        fds.append(len(os.listdir("/proc/self/fd")))
    assert max(rss[1:]) <= 1.10 * rss[0], rss
    assert fds[-1] <= fds[0], fds
