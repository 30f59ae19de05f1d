"""Quality without a reference (core.reference_free): edge rise, spectral and spatial consistency."""
import numpy as np
import pytest

from s2sr.core import reference_free
from s2sr.core.degrade import degrade, gaussian_blur
from s2sr.core.resample import bicubic


@pytest.fixture(scope="module")
def patches():
    """A (240, 240) image of flat patches bounded by straight lines at random angles: a band's sharp truth."""
    rng = np.random.default_rng(0)
    rows, cols = np.indices((240, 240))
    image = np.full((240, 240), 1000.0, np.float32)
    for _ in range(12):
        angle, at = rng.uniform(0, np.pi), rng.uniform(40, 200)
        image += np.where(np.cos(angle) * (cols - 120) + np.sin(angle) * (rows - 120) > at - 120,
                          rng.uniform(-300, 300), 0).astype(np.float32)
    return image


def blurred(image, sigma):
    return gaussian_blur(image[None], sigma)[0]


def test_edge_rise_grows_with_the_blur_as_a_gaussian_edge_does(patches):
    pan = blurred(patches, 0.7)
    measured = bicubic(degrade(pan[None], 2), 2)[0]
    found = reference_free.edge_spread(pan, {"sharp": blurred(patches, 1.0), "soft": blurred(patches, 2.0)},
                                       measured, 2)
    assert found["edges"] > 50
    rise = found["rise"]
    assert rise["pan"] < rise["sharp"] < rise["soft"]
    # a Gaussian edge rises from 10 to 90 % over 2.56 sigma; sampling between pixels adds a little
    assert 2.56 <= rise["soft"] <= 2.56 * 2 + 0.5 and rise["soft"] - rise["sharp"] == pytest.approx(2.56, abs=0.3)
    assert abs(found["overshoot"]["soft"]) < 0.05
    ringing = patches + 0.5 * (patches - blurred(patches, 1.5))  # unsharp masking: overshoot on both sides
    assert reference_free.edge_spread(pan, {"ringing": ringing}, measured, 2)["overshoot"]["ringing"] > 0.05


def test_edges_that_the_band_does_not_show_are_left_out(patches):
    pan = blurred(patches, 0.7)
    other = blurred(patches[::-1], 0.7)  # the band's edges lie elsewhere
    assert reference_free.edge_spread(pan, {}, other, 2)["edges"] < 0.2 * reference_free.edge_spread(
        pan, {}, pan, 2)["edges"]
    assert reference_free.edge_spread(pan, {}, -pan, 2)["edges"] == 0  # the contrast reversed


def test_spectral_consistency_prefers_an_estimate_that_degrades_to_the_measured_band(patches):
    truth = blurred(patches, 0.7)[None]
    measured = degrade(truth, 2)
    consistency = reference_free.spectral_consistency(np.concatenate([truth, bicubic(measured, 2),
                                                                      blurred(truth[0], 3)[None]]),
                                                      np.repeat(measured, 3, 0), 2)
    assert consistency[0] > consistency[1] + 5 and consistency[1] > consistency[2]


def test_detail_explained_is_one_for_pan_detail_and_low_for_noise(patches):
    rng = np.random.default_rng(1)
    hi = np.stack([blurred(patches, 0.7), blurred(patches.T, 0.7), blurred(patches[::-1], 0.7),
                   blurred(patches[:, ::-1], 0.7)])
    truth = (0.6 * hi[0] + 0.3 * hi[1] + 50.0)[None]
    measured = degrade(truth, 2)
    up = bicubic(measured, 2)
    pan_detail = up + 0.6 * (hi[:1] - bicubic(degrade(hi[:1], 2), 2))
    noise = up + rng.normal(0, 30, up.shape).astype(np.float32)
    explained = reference_free.explained_detail({"pan": pan_detail, "noise": noise, "bicubic": up}, up, hi, 2)
    assert explained["pan"][0] == pytest.approx(1.0, abs=1e-4) and explained["noise"][0] < 0.05
    assert np.isnan(explained["bicubic"][0])
