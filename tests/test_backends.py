"""Where the networks run: in ONNX Runtime the exported files give the pipeline's output within 1 DN of PyTorch's, and
a missing or stale ONNX network is exported on first use (without PyTorch, refused with what to do); in PyTorch on the
CPU in float32, NNPACK's Winograd convolutions give that of PyTorch's direct ones within 1 DN."""
from dataclasses import replace
import copy
import os
import shutil

import numpy as np
import pytest
import torch
from osgeo import gdal

import processing
from s2sr import models
from s2sr.core.devices import Runtime
from s2sr.core.errors import InputError
from s2sr.core.product import Product
from s2sr.run.options import Options
from s2sr.run.pipeline import super_resolve


def run(scene, out, backend="auto", confidence=None):
    super_resolve(Product.from_stacks(scene["10m"], scene["20m"], scene["60m"]), out,
                  Options(targets=("20m", "60m"), runtime=Runtime(precision="float32", backend=backend)), confidence,
                  log=lambda m: None)
    return gdal.Open(out)


def test_onnxruntime_gives_the_output_of_torch_within_1_dn(small_scene, tmp_path):
    with_torch = run(small_scene, str(tmp_path / "torch.tif"), backend="torch", confidence=str(tmp_path / "c1.tif"))
    with_ort = run(small_scene, str(tmp_path / "ort.tif"), backend="onnxruntime", confidence=str(tmp_path / "c2.tif"))
    assert with_ort.GetMetadataItem("S2SR_BACKEND") == "onnxruntime"
    assert with_torch.GetMetadataItem("S2SR_BACKEND") == "torch"
    assert with_ort.GetMetadataItem("S2SR_SELF_CHECK").split("dB")[0] == with_torch.GetMetadataItem(
        "S2SR_SELF_CHECK").split("dB")[0]
    a, b = (ds.ReadAsArray().astype(np.float64) for ds in (with_torch, with_ort))
    assert a.shape == b.shape == (12, 180, 192)
    assert np.abs(a - b).max() <= 1
    c1, c2 = (gdal.Open(str(tmp_path / name)).ReadAsArray() for name in ("c1.tif", "c2.tif"))
    np.testing.assert_allclose(c1, c2, rtol=1e-3, atol=0.01)  # the confidence map travels in the ONNX file too


def test_the_algorithm_runs_with_onnxruntime(provider, small_scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    processing.run("s2sr:superresolve", {"INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"],
                                         "BACKEND": 2, "OUTPUT": out})
    assert gdal.Open(out).GetMetadataItem("S2SR_BACKEND") == "onnxruntime"


@pytest.fixture()
def model_copy(tmp_path):
    for scale in (2, 6):
        for ext in ("pt", "onnx"):
            shutil.copy(models.weights_path("dsen2_oscd", scale)[:-2] + ext,
                        str(tmp_path / ("copy_%dx.%s" % (scale, ext))))
    return str(tmp_path)


def test_a_missing_or_stale_onnx_file_is_exported_on_first_use_or_refused_with_what_to_do(small_scene, model_copy,
                                                                                           tmp_path, monkeypatch):
    """A network trained further after its export, or never exported (a user's model), is exported beside its weights
    on its first run in ONNX Runtime and gives PyTorch's output within 1 DN; where PyTorch is not installed (nor can
    the weights be read) a missing file is refused, saying how to get it."""
    product = Product.from_stacks(small_scene["10m"], small_scene["20m"], small_scene["60m"])
    options = Options(targets=("20m", "60m"), model="copy", model_dirs=(model_copy,))
    path = os.path.join(model_copy, "copy_2x.pt")
    ckpt = torch.load(path, weights_only=True)
    ckpt["record"]["steps"] += 1  # trained further after the export
    torch.save(ckpt, path)
    os.remove(os.path.join(model_copy, "copy_6x.onnx"))  # never exported
    monkeypatch.setattr(models, "importable", lambda name: name not in ("torch", "onnx"))
    with pytest.raises(IOError, match="copy_6x.pt has no current ONNX file .*Install PyTorch or ONNX Runtime"):
        models.load_network(os.path.join(model_copy, "copy_6x.pt"), backend="onnxruntime")
    monkeypatch.undo()
    said = []
    super_resolve(product, str(tmp_path / "ort.tif"), replace(options, runtime=Runtime(backend="onnxruntime")),
                  log=said.append)
    assert sum("exporting" in m for m in said) == 2
    assert models.load_network(path, backend="onnxruntime").steps == ckpt["record"]["steps"]
    super_resolve(product, str(tmp_path / "torch.tif"),
                  replace(options, runtime=Runtime(backend="torch", precision="float32")), log=lambda m: None)
    a, b = (gdal.Open(str(tmp_path / n)).ReadAsArray().astype(np.float64) for n in ("ort.tif", "torch.tif"))
    assert np.abs(a - b).max() <= 1


def test_onnxruntime_on_cuda_is_refused_with_the_reason():
    with pytest.raises(IOError, match="runs on the CPU"):
        models.load_network(models.weights_path("dsen2_oscd", 2), "cuda", backend="onnxruntime")


def test_the_backend_follows_what_is_installed(monkeypatch):
    """auto: PyTorch where it can be imported, else ONNX Runtime; a missing one is named with what to install."""
    import sys

    from s2sr.core.devices import select_backend

    assert select_backend("auto") == "torch" and select_backend("onnxruntime") == "onnxruntime"
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    assert select_backend("auto") == "onnxruntime"
    with pytest.raises(InputError, match="PyTorch is needed for the torch backend.*pip install torch"):
        select_backend("torch")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(InputError, match="need PyTorch or ONNX Runtime.*pip install onnxruntime"):
        select_backend("auto")


def test_float32_on_the_cpu_runs_winograd_convolutions_within_a_dn_of_direct_ones(small_scene, tmp_path, monkeypatch):
    """models.winograd: NNPACK's Winograd convolutions give the pipeline's output within 1 DN (uint16 rounding) of
    oneDNN's direct ones, on a real scene."""
    from s2sr.models import winograd

    if not winograd.available():
        pytest.skip("this PyTorch build has no working NNPACK")
    net = models.load_network(models.weights_path("dsen2_oscd", 6), "cpu", precision="float32")
    convs = [m for m in net.module.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(type(m) is winograd.WinogradConv2d for m in convs)
    fast = run(small_scene, str(tmp_path / "winograd.tif")).ReadAsArray().astype(np.float64)
    monkeypatch.setattr(winograd, "available", lambda: False)
    direct = run(small_scene, str(tmp_path / "direct.tif")).ReadAsArray().astype(np.float64)
    assert np.abs(fast - direct).max() <= 1 and np.abs(fast - direct).mean() < 0.05


def test_a_winograd_convolution_computes_the_same_and_trains_as_before():
    from s2sr.models import winograd

    torch.manual_seed(0)
    direct = torch.nn.Sequential(torch.nn.Conv2d(5, 8, 3, padding=1), torch.nn.ReLU(),
                                 torch.nn.Conv2d(8, 3, 3, padding=1),
                                 torch.nn.Conv2d(3, 3, 1))
    fast = winograd.use_winograd(copy.deepcopy(direct))
    assert [type(m).__name__ for m in fast if isinstance(m, torch.nn.Conv2d)] == [
        "WinogradConv2d", "WinogradConv2d", "Conv2d"]  # 3x3 only
    x = torch.rand(2, 5, 37, 41) * 100
    with torch.inference_mode():
        torch.testing.assert_close(fast(x), direct(x), rtol=1e-4, atol=1e-3)
    fast(x).sum().backward()  # with gradients: PyTorch's own convolution, the same gradients
    direct(x).sum().backward()
    torch.testing.assert_close(fast[0].weight.grad, direct[0].weight.grad)


def test_a_winograd_convolution_falls_back_where_nnpack_fails(monkeypatch):
    from s2sr.models import winograd

    conv = torch.nn.Conv2d(4, 4, 3, padding=1)
    fast = winograd.use_winograd(copy.deepcopy(conv))

    def fail(*args):
        raise RuntimeError("NNPACK SpatialConvolution_updateOutput failed")

    monkeypatch.setattr(winograd, "_nnpack", fail)
    x = torch.rand(1, 4, 9, 9)
    with torch.inference_mode():
        torch.testing.assert_close(fast(x), conv(x))
