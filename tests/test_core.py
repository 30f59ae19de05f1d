"""The QGIS-free core: degradation, metrics, grid planning, tiling, the networks' reach."""
import numpy as np
import pytest
import torch
from osgeo import gdal
from torch.nn import functional as F

from s2sr.core import pansharpen
from s2sr.core.degrade import degrade
from s2sr.core.errors import InputError
from s2sr.core.grid import Plan, Source, plan, source_of
from s2sr.core.metrics import scores
from s2sr.core.tiling import blocks, tiles
from s2sr.models.dsen2 import DSen2
from s2sr.core.scene import scene_stats


def test_degrade_keeps_constant_images_and_divides_size():
    img = np.full((2, 12, 18), 1234.0, np.float32)
    out = degrade(img, 6)
    assert out.shape == (2, 2, 3)
    np.testing.assert_allclose(out, 1234.0, rtol=1e-6)
    with pytest.raises(ValueError):
        degrade(img[:, :10], 6)


def test_degrade_blurs_then_averages():
    img = np.zeros((1, 4, 4), np.float32)
    img[0, 1, 1] = 400.0  # one bright pixel inside the top-left 2x2 block
    out = degrade(img, 2)[0]
    assert 0 < out[0, 0] < 100.0  # block mean would be 100: the blur moved some energy out
    assert out[0, 1] > 0 and out[1, 0] > 0
    assert out.sum() * 4 == pytest.approx(400.0, rel=1e-5)  # mirrored edges keep the total here


def test_metrics_on_identical_and_scaled_images():
    rng = np.random.default_rng(0)
    ref = rng.uniform(500, 3000, (3, 16, 16))
    same = scores(ref, ref)
    assert np.all(same["rmse"] == 0) and same["sam"] < 1e-6 and np.allclose(same["uiq"], 1)
    scaled = scores(ref, ref * 1.1)
    assert scaled["sam"] < 1e-6  # a common gain does not change the spectral angle
    assert np.all(scaled["rmse"] > 0) and np.all(scaled["sre"] < 30)


def test_plan_pairs_the_real_grids_by_georeferencing(scene):
    sources = {f: source_of(gdal.Open(scene[k]), f) for f, k in ((1, "10m"), (2, "20m"), (6, "60m"))}
    p = plan(sources)
    # 10 m starts at x 435730, 20 m and 60 m at 435720; 60 m starts 20 m north of the others:
    # the common area, snapped to whole 60 m cells, starts at (435780, 4179420) and ends at (455040, 4160040)
    assert (p.x0, p.y0, p.res, p.block) == (435780, 4179420, 10, 6)
    assert (p.cols, p.rows) == (1926, 1938)
    assert p.offsets == {1: (5, 4), 2: (3, 2), 6: (1, 1)}


def _source(factor, x0=0.0, y0=6000.0, res=None, size=600, wkt=None):
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    return Source(factor, x0, y0, res or 10.0 * factor, size // factor, size // factor, wkt or srs.ExportToWkt())


@pytest.mark.parametrize("sources, message", [
    ({1: _source(1), 2: _source(2, res=30.0)}, "exactly 2 times"),
    ({1: _source(1), 2: _source(2, x0=5.0)}, "fraction of a pixel"),
    ({1: _source(1), 2: _source(2, x0=100000.0)}, "do not overlap"),
])
def test_plan_refuses_grids_that_do_not_nest(sources, message):
    with pytest.raises(InputError, match=message):
        plan(sources)


@pytest.mark.parametrize("rows, cols, block, margin", [(36, 36, 12, 5), (600, 372, 128, 36), (6, 6, 512, 44)])
def test_blocks_cover_the_grid_once_with_margins(rows, cols, block, margin):
    p = Plan(0, 0, 10, cols, rows, 6, {}, "")
    count = np.zeros((rows, cols), int)
    for (r, c, h, w), (rr, rc, rh, rw) in blocks(p, block, margin):
        count[r : r + h, c : c + w] += 1
        assert all(v % 6 == 0 for v in (r, c, h, w, rr, rc, rh, rw))
        assert rr <= r and rc <= c and rr + rh >= r + h and rc + rw >= c + w
        assert r - rr >= min(margin, r) and rc + rw - (c + w) >= min(margin, cols - c - w)
    assert np.all(count == 1)


@pytest.mark.parametrize("size", [1, 120, 250, 10000])
def test_tiles_group_the_same_blocks_whatever_their_size(size):
    p = Plan(0, 0, 10, 372, 600, 6, {}, "")
    expected = list(blocks(p, 120, 36))
    grouped = []
    for (tr, tc, th, tw), members in tiles(p, size, 120, 36):
        for core, (r, c, h, w) in members:
            assert tr <= r and tc <= c and r + h <= tr + th and c + w <= tc + tw
        grouped += members
    assert sorted(grouped) == sorted(expected)


@pytest.mark.parametrize("scale, base, depth", [(2, "bicubic", 2), (6, "bicubic", 2), (6, "hpf", 0), (2, "hpf", 2)])
def test_margin_covers_the_networks_reach(scale, base, depth):
    """Changing inputs beyond `margin` 10 m pixels from a region leaves the output there unchanged (depth 0 on an
    HPF base: HPF's reach is the wider)."""
    torch.manual_seed(0)
    net = DSen2(scale=scale, width=8, depth=depth, base=base).eval()
    torch.nn.init.normal_(net.tail.weight, std=0.1)  # an HPF base starts with a zero tail: give the body a say
    n = 144
    hi, mid, lo = (torch.rand(1, c, n // f, n // f) * 3000 for c, f in ((4, 1), (6, 2), (2, 6)))
    stats = scene_stats([[a[0].numpy() for a in (hi, mid, lo)[: 3 if scale == 6 else 2]]], scale).tensors()  # fixed, as in a tiled run
    with torch.no_grad():
        before = net(hi, mid, lo, stats)
        edge = 72 + net.margin  # the region is columns < 72; change everything from `edge` on
        edge += -edge % 6
        hi2, mid2, lo2 = hi.clone(), mid.clone(), lo.clone()
        hi2[..., edge:] = 0
        mid2[..., edge // 2 :] = 0
        lo2[..., edge // 6 :] = 0
        after = net(hi2, mid2, lo2, stats)
    torch.testing.assert_close(after[..., :72], before[..., :72])
    assert not torch.allclose(after[..., 72:], before[..., 72:])


@pytest.mark.parametrize("scale, base", [(2, "bicubic"), (6, "bicubic"), (6, "hpf")])
def test_a_gain_and_offset_per_band_carry_through_the_network(scale, base):
    """Radiometric robustness by design: bands changed by a * DN + b (a brightness or season change, an
    atmospheric path term) give the output changed by the same a and b of each target band."""
    torch.manual_seed(0)
    net = DSen2(scale=scale, width=8, depth=2, base=base).eval()
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.2)  # far from zero: the detail is a large part of the output
    n = 72
    inputs = [torch.rand(1, c, n // f, n // f) * 3000 + 500 for c, f in ((4, 1), (6, 2), (2, 6))][: 3 if scale == 6 else 2]
    gains, offsets = torch.rand(12) * 1.5 + 0.5, torch.rand(12) * 1000 - 800
    changed, start = [], 0
    for x in inputs:
        a, b = gains[start : start + len(x[0])], offsets[start : start + len(x[0])]
        changed.append(x * a[:, None, None] + b[:, None, None])
        start += len(x[0])
    with torch.no_grad():
        before, after = net(*inputs), net(*changed)
    n_out = len(inputs[-1][0])
    a, b = gains[start - n_out : start, None, None], offsets[start - n_out : start, None, None]
    assert (before - F.interpolate(inputs[-1], scale_factor=scale, mode="bicubic")).abs().mean() > 100
    torch.testing.assert_close(after, before * a + b, atol=0.05, rtol=1e-4)


def test_an_untrained_network_on_an_hpf_base_is_hpf_pan_sharpening():
    rng = np.random.default_rng(3)
    hi, mid, lo = (rng.random((1, c, 72 // f, 72 // f)).astype(np.float32) * 3000 + 500
                   for c, f in ((4, 1), (6, 2), (2, 6)))
    stats = scene_stats([[hi[0], mid[0], lo[0]]], 6)
    with torch.no_grad():
        out = DSen2(scale=6, width=8, depth=1, base="hpf")(*map(torch.from_numpy, (hi, mid, lo)), stats.tensors())
    np.testing.assert_allclose(out.numpy(), pansharpen.hpf(hi, lo, stats, 6), atol=0.02)


def test_the_scene_pan_band_is_fitted_from_the_10m_bands():
    """A target band that is a linear mix of the 10 m bands (at its own pixel size) gets that mix as its pan band,
    also when windows with no-data (NaN) pixels are among the samples."""
    rng = np.random.default_rng(0)
    hi = rng.uniform(500, 3000, (4, 60, 60))
    weights, intercept = np.array([0.5, -0.2, 0.1, 0.8]), 120.0
    coarse = hi.reshape(4, 10, 6, 10, 6).mean(axis=(2, 4))
    lo = np.stack([np.tensordot(weights, coarse, 1) + intercept, coarse[0]])
    mid = hi.reshape(4, 30, 2, 30, 2).mean(axis=(2, 4))[:3].repeat(2, 0)
    holed = [a.copy() for a in (hi, mid, lo)]
    holed[2][:, 0, 0] = np.nan
    stats = scene_stats([(hi, mid, lo), holed], 6)
    np.testing.assert_allclose(stats.pan[0, 0], np.append(weights, intercept), rtol=1e-4, atol=0.05)
    np.testing.assert_allclose(stats.mean[0, -2], np.nanmean([lo[0], holed[2][0]]), rtol=1e-5)


def test_messages_pass_through_the_translation_hook():
    from s2sr.core import errors

    errors.set_translator(lambda template: template.replace("do not overlap", "ne se recouvrent pas"))
    try:
        with pytest.raises(InputError, match="ne se recouvrent pas"):
            plan({1: _source(1), 2: _source(2, x0=100000.0)})
    finally:
        errors.set_translator(None)


@pytest.mark.parametrize("text, band", [
    ("s2_B02.jp2", "B2"), ("T33UUU_20170216T102101_B8A.jp2", "B8A"), ("T33UUU_20170216T102101_B05_20m.jp2", "B5"),
    ("S2A_OPER_MSI_L1C_TL_SGS__20160424T181611_A004382_T23KPQ_B11.tif", "B11"), ("b12", "B12"), ("B1", "B1"),
    ("B13.tif", None), ("notes_BB2.tif", None), ("B02_B03.tif", None), ("T33UUU_20170216T102101_TCI.jp2", None),
])
def test_band_names_in_file_names(text, band):
    from s2sr.core.bands import band_in

    assert band_in(text) == band


def test_numpy_bicubic_and_blur_match_pytorch():
    """What runs without PyTorch (core.resample, core.degrade on arrays) computes what the networks' side does."""
    import torch

    from s2sr.core.degrade import blur, gaussian_blur
    from s2sr.core.resample import bicubic as numpy_bicubic
    from s2sr.models.dsen2 import bicubic

    x = (np.random.default_rng(0).random((3, 37, 41)) * 3000).astype(np.float32)
    for factor in (2, 3, 6):
        ours = numpy_bicubic(x, factor)
        assert ours.dtype == np.float32 and ours.shape == (3, 37 * factor, 41 * factor)
        assert np.abs(ours - bicubic(torch.from_numpy(x)[None], factor)[0].numpy()).max() < 0.05
    for sigma in (0.5, 1 / 6):
        np.testing.assert_array_equal(gaussian_blur(x, sigma), blur(torch.from_numpy(x), sigma).numpy())
