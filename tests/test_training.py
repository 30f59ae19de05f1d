"""Training runs add up across sessions, keep the better weights, and the search holds validation sites out."""
import os
import sys

import numpy as np
import pytest
import torch

from s2sr.core.degrade import block_mean, coarser, shifted, wald_pair
from s2sr.models import load_checkpoint
from s2sr.models.dsen2 import DSen2
from s2sr.training import search, train
from s2sr.training.grow import grow
from s2sr.training.data import coarser_factor, resampling_repeats
from s2sr.training.evaluate import sre_gain


def smooth_scene(rng, size=96):
    """A random but spatially correlated scene: {1, 2, 6: (bands, rows, cols)} DN."""
    def field(bands, n):
        base = rng.random((bands, n // 8 + 1, n // 8 + 1)).astype(np.float32)
        up = torch.nn.functional.interpolate(torch.from_numpy(base)[None], size=(n, n), mode="bicubic")[0].numpy()
        return 500 + 3000 * up
    return {1: field(4, size), 2: field(6, size // 2), 6: field(2, size // 6)}


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    root = tmp_path_factory.mktemp("packed")
    rng = np.random.default_rng(1)
    for split, names in (("train", ("siteA_1", "siteA_2", "siteB_1")), ("test", ("siteC_1",))):
        folder = root / "2x" / split
        folder.mkdir(parents=True)
        for name in names:
            np.savez(folder / (name + ".npz"), **wald_pair(smooth_scene(rng), 2))
    return str(root)


def run_train(packed, out, *extra):
    """Run the training command line (train.main) with these arguments."""
    argv = ["train", "--scale", "2", "--out", out, "--data", packed, "--width", "8", "--depth", "1",
            "--threads", "1", "--minutes", "5", "--no-check-set"] + list(extra)
    old, sys.argv = sys.argv, argv
    try:
        train.main()
    finally:
        sys.argv = old


@pytest.mark.parametrize("bad_lr", ["1e6", "1e30"])  # diverged far off; overflowed (scores NaN)
def test_runs_add_up_and_a_worse_run_leaves_the_checkpoint(packed, tmp_path, bad_lr):
    out = str(tmp_path / "net_2x.pt")
    run_train(packed, out, "--steps", "30")
    first = load_checkpoint(out)
    assert first["record"]["steps"] == 30 and len(first["record"]["runs"]) == 1
    assert os.path.exists(out[:-3] + ".md")

    run_train(packed, out, "--steps", "20", "--lr", "1e-4")
    second = load_checkpoint(out)
    assert second["record"]["steps"] == 50 and len(second["record"]["runs"]) == 2

    run_train(packed, out, "--steps", "20", "--lr", bad_lr)
    kept = load_checkpoint(out)
    assert kept["record"]["steps"] == 50
    for k, v in second["state_dict"].items():
        assert torch.equal(v, kept["state_dict"][k])
    assert load_checkpoint(out + ".partial")["record"]["steps"] == 70


@pytest.mark.parametrize("scale", [2, 6])
def test_a_grown_network_computes_the_same_and_every_new_weight_learns(scale):
    rng = np.random.default_rng(2)
    net = DSen2(scale=scale, width=8, depth=1, base="hpf" if scale == 6 else "bicubic")
    for p in net.parameters():  # a 'trained' network: no zero tail
        torch.nn.init.normal_(p, std=0.1)
    opt = torch.optim.Adam(net.parameters())
    scene = {f: torch.from_numpy(a)[None] for f, a in smooth_scene(rng).items()}
    inputs = (scene[1], scene[2], scene[6] if scale == 6 else None)
    net(*inputs).abs().mean().backward()
    opt.step()
    ckpt = {"config": net.config, "state_dict": net.state_dict(), "optimizer": opt.state_dict(),
            "record": {"steps": 1, "seconds": 1.0, "runs": []}}
    grown = grow(ckpt, width=12, depth=3)
    bigger = DSen2(**grown["config"])
    bigger.load_state_dict(grown["state_dict"])
    assert grown["config"]["width"] == 12 and grown["config"]["depth"] == 3
    with torch.no_grad():
        assert torch.allclose(bigger(*inputs), net(*inputs), atol=1e-3)  # DN
    opt = torch.optim.Adam(bigger.parameters(), lr=1e-3)
    opt.load_state_dict(grown["optimizer"])
    before = {k: v.clone() for k, v in bigger.state_dict().items()}
    for _ in range(2):  # weights behind a zero weight get their gradient at the second step
        opt.zero_grad()
        bigger(*inputs).abs().mean().backward()
        opt.step()
    for key, value in bigger.state_dict().items():
        changed = (value != before[key]).float().mean()
        assert changed > 0.9, key
    with pytest.raises(ValueError):
        grow(ckpt, width=4)


def test_training_resumes_from_a_grown_network(packed, tmp_path):
    out = str(tmp_path / "net_2x.pt")
    run_train(packed, out, "--steps", "10")
    torch.save(grow(load_checkpoint(out), width=12, depth=2), out)
    run_train(packed, out, "--steps", "10", "--lr", "1e-4")
    ckpt = load_checkpoint(out if os.path.exists(out) else out + ".partial")
    assert ckpt["config"]["width"] == 12 and ckpt["record"]["steps"] == 20
    assert "grown from width 8, depth 1" in ckpt["record"]["runs"][1]["note"]


@pytest.mark.parametrize("scale, coarse", [(6, "lo"), (2, "mid")])
def test_phase_shifted_pairs_put_the_coarse_cells_elsewhere_on_the_target_grid(scale, coarse):
    scene = smooth_scene(np.random.default_rng(2), 216)
    plain, moved = wald_pair(scene, scale), wald_pair(shifted(scene, 1, scale - 1, scale), scale)
    rows, cols = moved["target"].shape[1:]
    np.testing.assert_array_equal(moved["target"], plain["target"][:, 1 : 1 + rows, scale - 1 : scale - 1 + cols])
    # the coarse cells now start 1 and scale-1 target pixels in: block means of the shifted bands, not of the plain
    n = 5 * scale
    np.testing.assert_allclose(block_mean(moved["target"][:, :n, :n], scale), moved[coarse][:, :5, :5], rtol=0.02)
    assert not np.allclose(moved[coarse][:, :5, :5], plain[coarse][:, :5, :5], rtol=0.02)


def test_the_sampler_leaves_out_pairs_smaller_than_the_patch():
    rng = np.random.default_rng(0)
    big, small = (wald_pair(smooth_scene(rng, n), 6) for n in (216, 144))  # 18 and 12 cells of the 20 m grid
    sampler = train.PatchSampler({"big": big, "small": small}, 6, 15, rng)
    assert sampler.patch == 15 and len(sampler.pairs) == 1
    assert sampler.batch(4)["target"].shape == (4, 2, 30, 30)  # the target: at twice the 20 m grid
    alone = train.PatchSampler({"small": small}, 6, 15, rng)  # nothing that large: the patch shrinks
    assert alone.patch == 12 and alone.batch(2)["target"].shape == (2, 2, 24, 24)


def test_ground_weighting_draws_a_coarser_copy_as_often_as_its_scene():
    rng = np.random.default_rng(0)
    scene = smooth_scene(rng, 216)
    pairs = {"site_1": wald_pair(scene, 2), "site_1x2_s01": wald_pair(coarser(scene, 2), 2)}
    assert [coarser_factor(n) for n in pairs] == [1, 2] and coarser_factor("coarse10x_T29RKH_20200219_0") == 1
    by_area = train.PatchSampler(pairs, 2, 16, rng).weights
    by_ground = train.PatchSampler(pairs, 2, 16, rng, "ground").weights
    np.testing.assert_allclose(by_area, [0.8, 0.2])  # the copy has a quarter of the pixels
    np.testing.assert_allclose(by_ground, [0.5, 0.5])


def test_ignore_repeats_leaves_rows_that_a_warp_repeated_out_of_the_loss():
    rng = np.random.default_rng(0)
    pair = wald_pair(smooth_scene(rng, 216), 2)
    pair["target"][:, 10] = pair["target"][:, 9]  # a nearest-neighbour warp repeated row 9 (OSCD)
    repeats = resampling_repeats(pair["target"])
    assert repeats[9:11].all() and repeats.sum() == 2 * repeats.shape[1]
    kept = train.PatchSampler({"site_1": pair}, 2, 16, rng, ignore_repeats=True).pairs[0]["valid"][0]
    counted = train.PatchSampler({"site_1": pair}, 2, 16, rng).pairs[0]["valid"][0]
    assert kept.sum() == repeats.size - repeats.sum() and not kept[9:11].any() and counted.all()
    target = torch.from_numpy(pair["target"])[None]
    out = target.clone()
    out[..., 9:11, :] += 100.0  # wrong only where the target was repeated
    std = torch.full((1, 6, 1, 1), 50.0)
    assert train.masked_l1(out, target, std, kept[None, None]) == 0.0
    assert train.masked_l1(out, target, std, counted[None, None]).item() == pytest.approx(2.0 * 2 / repeats.shape[0])


def test_coarse_only_bands_count_in_coarser_copies_alone():
    rng = np.random.default_rng(0)
    scene = smooth_scene(rng, 216)
    pairs = {"site_1": wald_pair(scene, 6), "site_1x2_s01": wald_pair(coarser(scene, 2), 6)}
    sampler = train.PatchSampler(pairs, 6, 6, rng, coarse_only=[1])  # B9: from the coarser copy only
    at_scale, coarse = (p["valid"].float().mean((1, 2)).tolist() for p in sampler.pairs)
    assert at_scale == [1.0, 0.0] and coarse == [1.0, 1.0]
    std = torch.full((1, 2, 1, 1), 50.0)
    for pair, loss in zip(sampler.pairs, (0.0, 1.0)):  # B9 off by 2 std: no loss at scale, half the mean coarser
        out = pair["target"][None] + torch.tensor([0.0, 100.0])[None, :, None, None]
        assert train.masked_l1(out, pair["target"][None], std, pair["valid"][None]).item() == pytest.approx(loss)
    result = {"bands": ["B1", "B9"], "model": {"sre": [30.0, 20.0]}, "bicubic": {"sre": [22.0, 18.0]}}
    assert sre_gain(result) == 5.0 and sre_gain(result, ["B1"]) == 8.0  # train.py judges a run on B1 alone then


def test_search_holds_the_validation_sites_out():
    pairs = {"bordeaux_1": 1, "bordeaux_2": 2, "paris_1": 3, "saclay_e_2": 4}
    trained, held = search.split_sites(pairs, ["bordeaux", "saclay"])
    assert set(held) == {"bordeaux_1", "bordeaux_2"}
    assert set(trained) == {"paris_1", "saclay_e_2"}
    assert search.parse_config("96x6@5e-4") == (96, 6, 5e-4)
    assert search.parse_config("64x4") == (64, 4, 1e-3)


def test_search_row(packed):
    from s2sr.training.data import load_pairs
    pairs = load_pairs(os.path.join(packed, "2x", "train"))
    trained, held = search.split_sites(pairs, ["siteB"])
    row = search.run(2, "8x1", trained, held, reference_steps=2)
    cells = [c.strip() for c in row.strip("|").split("|")]
    ratio = search.parameters(search.DSen2(scale=2)) / int(cells[3].replace(",", ""))
    assert cells[:2] == ["8", "1"] and int(cells[4]) == round(2 * ratio)  # equal compute: more steps
    assert np.isfinite(float(cells[6]))


def test_a_run_leaves_the_mean_of_its_weight_samples_where_it_scores_better(packed, tmp_path, monkeypatch):
    """The weight average takes AVERAGED samples evenly over the run and its end state; train.py keeps whichever of
    the average and the end state scores better on the test sites, and its record says which."""
    net = DSen2(scale=2, width=8, depth=1)
    average = train.WeightAverage(net)
    seen = []
    for step, progress in enumerate(np.linspace(0, 0.999, 200)):
        with torch.no_grad():
            net.head.bias.fill_(float(step))
        before = average.count
        average(step, progress, 0.0)
        if average.count > before:
            seen.append(float(step))
    assert average.count == train.AVERAGED - 1 and seen == sorted(seen)  # the last sample is the end state's
    np.testing.assert_allclose(average.network().head.bias.detach().numpy(), np.mean(seen), rtol=1e-5)

    real = train.evaluate
    for worse, averaged in ((1, train.AVERAGED), (2, 0)):  # the end state scored worse, then the average
        calls = []

        def evaluate(net, pairs, pixels):
            result = real(net, pairs, pixels)
            calls.append(1)
            if len(calls) == worse:
                result = dict(result, model=dict(result["model"], sre=[v - 10 for v in result["model"]["sre"]]))
            return result

        monkeypatch.setattr(train, "evaluate", evaluate)
        out = str(tmp_path / ("avg%d_2x.pt" % worse))
        run_train(packed, out, "--steps", "48")
        assert load_checkpoint(out)["record"]["runs"][-1]["averaged"] == averaged
        card = open(out[:-3] + ".md").read()
        assert ("the mean of %d weight samples" % train.AVERAGED in card) == bool(averaged)
