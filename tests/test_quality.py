"""Reduced-scale check (Wald protocol) on a held-out OSCD test site: the shipped models beat bicubic."""
import os

import numpy as np
import pytest

from s2sr import models
from s2sr.core.degrade import wald_pair
from s2sr.training.data import oscd_root, oscd_sites, read_scene
from s2sr.training.evaluate import evaluate

SITE = "montpellier"


@pytest.fixture(scope="module")
def scene():
    folder = os.path.join(oscd_root(), SITE, "imgs_1")
    if not os.path.isdir(folder):
        pytest.skip("OSCD data not found at %s (../shared/data/oscd): reduced-scale check skipped" % oscd_root())
    assert SITE in oscd_sites("test") and SITE not in oscd_sites("train")
    return read_scene(folder)


@pytest.mark.parametrize("scale, min_gain", [(2, 4.0), (6, 4.0)])
def test_model_beats_bicubic_on_a_held_out_site(scene, scale, min_gain):
    net = models.load_network(models.weights_path("dsen2_oscd", scale))
    pair = {k: v.astype(np.float32) for k, v in wald_pair(scene, scale).items()}
    result = evaluate(net, {SITE: pair})
    model, cubic = result["model"], result["bicubic"]
    assert np.all(np.array(model["rmse"]) < np.array(cubic["rmse"])), result
    assert np.mean(model["sre"]) - np.mean(cubic["sre"]) >= min_gain, result
    assert model["sam"] < cubic["sam"]
