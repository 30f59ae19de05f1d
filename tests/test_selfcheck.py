"""The self-check: a band where the network does worse than a classical method on the user's scene is produced by
that method, and the log and the output metadata say so."""
import numpy as np
import pytest
import torch
from osgeo import gdal

import processing
from s2sr import models
from s2sr.core.devices import Runtime
from s2sr.run.evaluation import read_scene
from s2sr.core.product import Product
from s2sr.run.options import Options
from s2sr.run.pipeline import super_resolve
from s2sr.core.fits import ScaleShift
from s2sr.run.selfcheck import verdicts
from s2sr.training.model_card import self_check_line
from s2sr.training import selfcheck as selfcheck_fit

B11 = 4  # index of B11 among the 2x network's bands


def run(scene, out, messages=None, **options):
    super_resolve(Product.from_stacks(scene["10m"], scene["20m"], scene["60m"]), out,
                  Options(targets=("20m", "60m"), runtime=Runtime(precision="float32"), **options),
                  log=messages.append if messages is not None else lambda m: None)
    ds = gdal.Open(out)
    names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]
    return dict(zip(names, ds.ReadAsArray().astype(np.float64))), ds.GetMetadataItem("S2SR_SELF_CHECK")


@pytest.fixture(scope="module")
def broken_models(tmp_path_factory):
    """The shipped model, its 2x network's B11 made far worse than bicubic (detail x 30); and the same with no detail
    at all (its B11 is bicubic upsampling)."""
    folder = tmp_path_factory.mktemp("models")
    for name, factor in (("broken", 30.0), ("flat", 0.0)):
        for scale in (2, 6):
            ckpt = torch.load(models.weights_path("dsen2_oscd", scale), weights_only=True)
            if scale == 2:
                for key in ("tail.weight", "tail.bias"):
                    ckpt["state_dict"][key][4 * B11 : 4 * B11 + 4] *= factor
            torch.save(ckpt, str(folder / ("%s_%dx.pt" % (name, scale))))
    return str(folder)


def test_a_band_the_network_gets_wrong_is_replaced_and_reported(small_scene, broken_models, tmp_path):
    messages = []
    checked, report = run(small_scene, str(tmp_path / "checked.tif"), messages, model="broken",
                          model_dirs=(broken_models,))
    unchecked, off = run(small_scene, str(tmp_path / "unchecked.tif"), model="broken", model_dirs=(broken_models,),
                         self_check=False)
    cubic, _ = run(small_scene, str(tmp_path / "flat.tif"), model="flat", model_dirs=(broken_models,),
                   self_check=False)
    assert off == "off"
    assert "B11 HPF" in report or "B11 bicubic" in report, report
    assert "B5 model" in report and "B12 model" in report, report
    assert any(m.startswith("self-check") and "B11" in m for m in messages)
    error = {k: np.sqrt(np.mean((v["B11"] - cubic["B11"]) ** 2)) for k, v in (("checked", checked),
                                                                               ("unchecked", unchecked))}
    assert error["unchecked"] > 5 * error["checked"], error  # the broken band is gone, a classical one is there
    for band in ("B5", "B12", "B2"):  # the others are the network's, as without the check
        np.testing.assert_array_equal(checked[band], unchecked[band])


def test_without_the_check_or_where_the_network_wins_the_output_is_the_networks(small_scene, tmp_path):
    checked, report = run(small_scene, str(tmp_path / "checked.tif"))
    plain, off = run(small_scene, str(tmp_path / "plain.tif"), self_check=False)
    kept = [b for b in checked if "%s model" % b in report]
    assert off == "off" and kept, report
    assert "B5 model (model " in report and "lead at the output's scale expected: over HPF " in report, report
    for band in kept:
        np.testing.assert_array_equal(checked[band], plain[band])


def test_an_area_too_small_to_check_is_left_to_the_network_and_said(small_scene, tmp_path):
    box = (440300.0, 4168700.0, 440900.0, 4169300.0)  # 600 m: enough for 2x, too small for 6x
    out, report = run(small_scene, str(tmp_path / "small.tif"), extent=box)
    assert "6x: the area is too small to check the network" in report
    assert "2x: B5 " in report


def test_the_algorithm_has_the_switch(provider, small_scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    processing.run("s2sr:superresolve", {"INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"],
                                         "SELF_CHECK": False, "OUTPUT": out})
    assert gdal.Open(out).GetMetadataItem("S2SR_SELF_CHECK") == "off"


def test_the_verdicts_are_corrected_by_the_scale_shift():
    """One scale coarser HPF gains on the network: a band it leads there by less than the shift stays the network's;
    one it leads by more than shift and spread goes to HPF; against bicubic the shift works the other way."""
    sre = {"model": [30.0, 30.0, 25.0], "hpf": [31.0, 33.0, 20.0], "bicubic": [20.0, 20.0, 20.0]}
    shift = ScaleShift(2, {"hpf": [2.0, 2.0, 2.0], "bicubic": [-6.0, -6.0, -6.0]},
                       {"hpf": [0.5, 0.5, 0.5], "bicubic": [0.5, 0.5, 0.5]}, "test", 1)
    assert verdicts(sre) == ("hpf", "hpf", "model")
    assert verdicts(sre, shift) == ("model", "hpf", "bicubic")


def test_the_scale_shift_is_fitted_on_scenes_degraded_twice(scene, monkeypatch):
    """Fitted on two halves of a real scene: on the red-edge and NIR bands the network's lead over HPF is larger at
    the output's scale than one scale coarser, and its lead over bicubic smaller."""
    monkeypatch.setattr(selfcheck_fit, "MIN_SCENES", 2)
    net = models.load_network(models.weights_path("dsen2_oscd", 2))
    whole = read_scene(scene["10m"], scene["20m"])[0]
    halves = {side: {f: a[:, :, : a.shape[2] // 2] if side == "west" else a[:, :, a.shape[2] // 2 :]
                     for f, a in whole.items()} for side in ("west", "east")}
    shift, used = selfcheck_fit.fit(net, halves, steps=7)
    assert used == 2 and shift.steps == 7 and shift.scale == 2
    assert all(len(shift.shift[m]) == len(shift.spread[m]) == 6 for m in ("hpf", "bicubic"))
    assert np.mean(shift.shift["hpf"][:4]) > 0 > np.mean(shift.shift["bicubic"][:4]), shift
    monkeypatch.setattr(selfcheck_fit, "MIN_SCENES", 3)
    assert selfcheck_fit.fit(net, halves, steps=7) == (None, 2)


def test_the_shipped_networks_carry_their_scale_shift_in_both_backends():
    """The 2x network's shift is in its weight file and its ONNX file alike; the 6x network has none (too few
    calibration scenes large enough), and a shift fitted for other training steps is not used."""
    path = models.weights_path("dsen2_oscd", 2)
    shift = models.load_network(path).check_shift
    assert shift is not None and shift == models.load_network(path, backend="onnxruntime").check_shift
    assert models.load_network(models.weights_path("dsen2_oscd", 6)).check_shift is None
    stored = models.load_checkpoint(path)["self_check"]
    assert ScaleShift.stored(stored, stored["steps"] + 1) is None and ScaleShift.stored(None, 1) is None


def test_the_model_cards_say_how_the_self_check_decides():
    assert "the network's lead over HPF grows from the check's scale to the output's by B5 +" in self_check_line(
        models.load_checkpoint(models.weights_path("dsen2_oscd", 2)))
    assert "uncorrected" in self_check_line(models.load_checkpoint(models.weights_path("dsen2_oscd", 6)))
