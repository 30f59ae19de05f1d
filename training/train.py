"""Train (or resume training) a DSen2 network on reduced-scale OSCD pairs, then score and card it.

    python -m s2sr.training.train --scale 2 --minutes 60 --out models/s2sr_2x.pt

If --out exists, training resumes from it (weights, optimizer state and training record), so runs
add up across sessions. The learning rate ramps up over the first 5 % of the run's budget (a resumed
optimizer jumping straight to --lr once wiped out a trained network), then follows a cosine down to 1/50
of --lr. Progress is saved every 5 minutes to <out>.partial. At the end the network is scored on the test
sites; --out and its model card are replaced only if the run scores at least as well as the checkpoint
(otherwise the run stays in <out>.partial), bands learned from coarser copies alone (--coarse-only) left out
of that comparison.
"""
import argparse
import datetime
import logging
import os
import sys
import time

import numpy as np
import torch

from ..core.bands import GROUPS
from ..core.devices import PRECISIONS, autocast, select_precision
from ..models import load_checkpoint, load_network, save_checkpoint
from .model_card import write_card
from ..models.backends import TorchNetwork
from ..models.dsen2 import DSen2
from ..core.scene import SceneStats, scene_stats
from .data import at_every_phase, coarser_factor, load_pairs, resampling_repeats, trained_test_sites
from .evaluate import evaluate, sre_gain

LOG = logging.getLogger(__name__)  # training's messages: the command line shows them (main), a library caller chooses

PATCH = {2: 32, 6: 15}  # patch size on the network's (20 m-equivalent) grid
BATCH = {2: 16, 6: 32}
STATS_JITTER = 0.15  # per crop and band: mean moved by N(0, this) std, std scaled by exp(N(0, this))
WARMUP = 0.05  # share of the budget (time or steps) over which the learning rate ramps up
AVERAGED = 24  # weight samples taken evenly over a run for its weight average


class PatchSampler:
    """Random aligned crops with flips and 90-degree rotations from packed pairs. Pairs smaller than the patch are
    left out; where none is that large, the patch shrinks to the smallest pair (a small area to fine-tune on).

    weighting: "pixels", every pair is drawn in proportion to its area; "ground", a copy of a scene made k times
    coarser (`training.data.coarser_factor`) k^2 times more, in proportion to the ground it covers, so that it is
    drawn as often as the scene itself (its pairs are cleaner: more of the pan detail survives the coarsening).

    Every crop has a "valid" mask per target band (bands, h, w), the pixels the loss counts; with ignore_repeats,
    the pixels that a nearest-neighbour warp repeated (`training.data.resampling_repeats`) are left out of it; the
    bands at the indices `coarse_only` count only in copies of a scene made coarser (`coarser_factor` > 1), whose
    labels the resampling did not scramble (OSCD's 60 m labels at their own scale: `bench/registration.py`)."""

    def __init__(self, pairs, scale, patch, rng, weighting="pixels", ignore_repeats=False, coarse_only=()):
        self.scale, self.rng = scale, rng
        self.step = 3 if scale == 6 else 1  # crops start and end on whole 'lo' cells
        large = [n for n, p in pairs.items() if min(p["mid"].shape[1:]) >= patch]
        names = large or list(pairs)
        self.pairs = [{k: torch.from_numpy(v) for k, v in pairs[n].items()} for n in names]
        for name, pair in zip(names, self.pairs):
            target = pair["target"].numpy()
            repeats = resampling_repeats(target) if ignore_repeats else np.zeros(target.shape[1:], bool)
            valid = np.repeat(~repeats[None], len(target), 0)
            valid[list(coarse_only)] &= coarser_factor(name) > 1
            pair["valid"] = torch.from_numpy(valid)  # bool: 104 MB at 2x, 417 MB as float
        self.weights = np.array([p["mid"].shape[1] * p["mid"].shape[2] for p in self.pairs], float)
        if weighting == "ground":
            self.weights *= np.array([coarser_factor(n) ** 2 for n in names], float)
        self.weights /= self.weights.sum()
        smallest = min(min(p["mid"].shape[1:]) for p in self.pairs)
        self.patch = min(patch, smallest - smallest % self.step)
        inputs = ("hi", "mid", "lo")[: 3 if scale == 6 else 2]
        self.stats = [scene_stats([[p[k].numpy() for k in inputs]], scale) for p in self.pairs]

    def crop(self, pair):
        _, rows, cols = pair["mid"].shape
        p, s = self.patch, self.step
        i = int(self.rng.integers(0, (rows - p) // s + 1)) * s
        j = int(self.rng.integers(0, (cols - p) // s + 1)) * s
        out = {}
        for key, arr in pair.items():
            f = arr.shape[1] / rows  # this array's pixels per network-grid pixel
            out[key] = arr[:, round(i * f) : round((i + p) * f), round(j * f) : round((j + p) * f)]
        k, flip = int(self.rng.integers(4)), bool(self.rng.integers(2))
        return {key: torch.rot90(v.flip(-1) if flip else v, k, (-2, -1)) for key, v in out.items()}

    def batch(self, size):
        """Crops with the scene statistics of their pair, jittered as if the scene were cut to another extent."""
        picks = self.rng.choice(len(self.pairs), size=size, p=self.weights)
        crops = [self.crop(self.pairs[i]) for i in picks]
        out = {k: torch.stack([c[k] for c in crops]) for k in crops[0]}
        mean, std, pan = SceneStats.stack([self.stats[i] for i in picks])
        noise = self.rng.normal(0.0, STATS_JITTER, (2,) + mean.shape).astype(np.float32)
        out["stats"] = SceneStats(mean + noise[0] * std, std * np.exp(noise[1]), pan)
        return out


class WeightAverage:
    """The mean of a network's weights sampled at AVERAGED evenly spaced points of a run and at its end (stochastic
    weight averaging, Izmailov et al. 2018: a point nearer the middle of the region the run wanders through, which
    generalises better than where it stops). `fit`'s on_step."""

    def __init__(self, net):
        self.net, self.count = net, 0
        self.mean = {k: torch.zeros_like(v, dtype=torch.float32) for k, v in net.state_dict().items()}

    def __call__(self, steps, progress, loss):
        if progress >= (self.count + 1) / AVERAGED:
            self.add()
        return False

    def add(self):
        self.count += 1
        with torch.no_grad():
            for k, v in self.net.state_dict().items():
                self.mean[k] += (v.float() - self.mean[k]) / self.count

    def network(self):
        """A copy of the network with the mean weights."""
        net = DSen2(**self.net.config)
        net.load_state_dict(self.mean)
        return net.eval()


def masked_l1(out, target, std, valid):
    """Mean absolute error in standard deviations of each target band over its valid pixels (mask (n, bands, h, w)),
    averaged over the bands."""
    valid = valid.to(out.dtype)
    per_band = (out - target).abs().div(std).mul(valid).sum((0, 2, 3)) / valid.sum((0, 2, 3)).clamp(min=1.0)
    return per_band.mean()


def fit(net, opt, sampler, batch, budget, lr_max, max_steps=0, device="cpu", precision="float32", on_save=None,
        on_step=None):
    """Train for `budget` seconds or `max_steps`, whichever ends first: L1 loss, lr warm-up then cosine over
    that budget; returns the steps taken.

    precision "bfloat16": forward and backward convolutions under bfloat16 autocast (the weights, the optimizer
    and the loss stay float32), about twice as fast where the device computes bfloat16 natively.
    on_save(steps) is called every 5 minutes (progress kept in case the run is cut off). on_step(steps, share of the
    budget spent, loss) is called after every step; when it returns True, training stops there.
    """
    net.to(device)
    for state in opt.state.values():  # a resumed optimizer's moments follow the network to the device
        for k, v in state.items():
            if torch.is_tensor(v) and k != "step":
                state[k] = v.to(device)
    start, steps, last_save = time.time(), 0, time.time()
    net.train()
    while True:
        elapsed = time.time() - start
        progress = max(elapsed / budget, steps / max_steps if max_steps else 0.0)  # share of the budget spent
        if progress >= 1.0:
            break
        warmup = min(1.0, 0.02 + progress / WARMUP)  # a resumed Adam must not jump to full lr
        lr = lr_max * warmup * (0.02 + 0.98 * 0.5 * (1 + float(np.cos(np.pi * progress))))
        for group in opt.param_groups:
            group["lr"] = lr
        b = {k: v.tensors(device) if k == "stats" else v.to(device) for k, v in sampler.batch(batch).items()}
        with autocast(device, precision):
            out = net(b["hi"], b["mid"], b.get("lo"), b["stats"])
        loss = masked_l1(out.float(), b["target"], b["stats"].std[:, -net.n_out :, None, None], b["valid"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
        if on_step and on_step(steps, progress, loss.item()):
            break
        if steps % 200 == 0:
            LOG.info("step %d  %.0f s  lr %.2e  L1 %.5f", steps, elapsed, lr, loss.item())
        if on_save and time.time() - last_save > 300:
            on_save(steps)
            last_save = time.time()
    net.cpu()
    return steps


def train(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data = os.path.join(args.data, "%dx" % args.scale)
    train_pairs, test_pairs = load_pairs(os.path.join(data, "train")), load_pairs(os.path.join(data, "test"))
    if not train_pairs:
        raise SystemExit("no packed pairs in %s: run `make data` first" % data)

    record = {"steps": 0, "seconds": 0.0, "runs": []}
    net = DSen2(scale=args.scale, width=args.width, depth=args.depth, base=args.base)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    if os.path.exists(args.out):
        ckpt = load_checkpoint(args.out)
        net = DSen2(**ckpt["config"])
        net.load_state_dict(ckpt["state_dict"])
        opt = torch.optim.Adam(net.parameters(), lr=args.lr)
        opt.load_state_dict(ckpt["optimizer"])
        record = ckpt["record"]
        LOG.info("resuming %s after %d steps", args.out, record["steps"])

    args.phases = at_every_phase(train_pairs)
    args.coarsest = max(coarser_factor(name) for name in train_pairs)
    args.test_sites = trained_test_sites(train_pairs)
    coarse_only = [GROUPS[args.scale].index(b) for b in args.coarse_only]
    sampler = PatchSampler(train_pairs, args.scale, PATCH[args.scale], rng, args.weighting, args.ignore_repeats,
                           coarse_only)
    start = time.time()

    def keep(steps):
        save(args.out + ".partial", net, opt, record, steps, time.time() - start, args, None)

    average = WeightAverage(net)
    steps = fit(net, opt, sampler, BATCH[args.scale], args.minutes * 60.0, args.lr, args.steps, args.device,
                args.precision, keep, average)
    average.add()
    pixels = "measured" if args.ignore_repeats else "all"  # scored as trained: repeated labels left out or not
    # judged on the bands learned at scale (the others' labels there are scrambled); on all where none is
    judged = [b for b in GROUPS[args.scale] if b not in args.coarse_only] or list(GROUPS[args.scale])
    result = evaluate(TorchNetwork(net.eval()), test_pairs, pixels=pixels)
    mean = evaluate(TorchNetwork(average.network()), test_pairs, pixels=pixels)
    LOG.info("test sites (%s pixels): SRE gain over bicubic %+.2f dB, the mean of %d weight samples %+.2f dB (%s)",
             pixels, sre_gain(result, judged), average.count, sre_gain(mean, judged), " ".join(judged))
    averaged = 0
    if sre_gain(mean, judged) >= sre_gain(result, judged):  # the run's weight average is what it leaves
        net.load_state_dict(average.mean)
        result, averaged = mean, average.count
    before = record.get("scores")
    if before and (before.get("pixels", "all"), before.get("names")) != (pixels, result["names"]):  # scored apart
        before = evaluate(load_network(args.out), test_pairs, pixels=pixels)
    if before and not sre_gain(result, judged) >= sre_gain(before, judged):  # a diverged run scores NaN
        save(args.out + ".partial", net, opt, record, steps, time.time() - start, args, result, averaged)
        LOG.info("below the checkpoint's %+.2f dB: %s kept, this run left in %s.partial", sre_gain(before, judged),
                 args.out, args.out)
        return
    save(args.out, net, opt, record, steps, time.time() - start, args, result, averaged)
    if os.path.exists(args.out + ".partial"):
        os.remove(args.out + ".partial")


def save(path, net, opt, record, steps, seconds, args, result, averaged=0):
    """Write a checkpoint atomically; with a result, also close the run and write the model card beside it.
    averaged: how many weight samples the network is the mean of (0: the run's end state)."""
    run = {"date": datetime.date.today().isoformat(), "steps": steps, "seconds": round(seconds),
           "lr": args.lr, "threads": args.threads, "device": args.device, "precision": args.precision,
           "patch": PATCH[args.scale], "batch": BATCH[args.scale], "phases": args.phases,
           "weighting": args.weighting, "ignore_repeats": args.ignore_repeats, "coarse_only": args.coarse_only,
           "coarsest": args.coarsest, "averaged": averaged, "test_sites": args.test_sites}
    rec = dict(record, steps=record["steps"] + steps, seconds=record["seconds"] + seconds,
               runs=record["runs"] + [run])
    if result is not None:
        rec["scores"] = result
    ckpt = {"config": net.config, "state_dict": net.state_dict(), "optimizer": opt.state_dict(), "record": rec}
    save_checkpoint(ckpt, path)
    if result is not None and path.endswith(".pt"):
        write_card(path, ckpt, args.check_set)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, choices=(2, 6), required=True)
    parser.add_argument("--out", required=True, help="checkpoint to write (resumed if it exists)")
    parser.add_argument("--data", default="data/packed")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: time only)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--base", default="bicubic", choices=("bicubic", "hpf"),
                        help="a new network's base: the detail it predicts is added to bicubic or HPF upsampling")
    parser.add_argument("--weighting", default="pixels", choices=("pixels", "ground"),
                        help="draw pairs by their area, or coarser copies of a scene by the ground they cover")
    parser.add_argument("--ignore-repeats", action="store_true",
                        help="leave target pixels that a nearest-neighbour warp repeated (OSCD) out of the loss")
    parser.add_argument("--coarse-only", nargs="+", default=[], metavar="BAND",
                        help="target bands learned from coarser copies of the scenes only (e.g. B9 at 6x): OSCD's own "
                             "labels of them are scrambled by its resampling")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (a lent GPU); the weights run on CPU either way")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="bfloat16: autocast convolutions (auto: where the device computes bfloat16 natively)")
    parser.add_argument("--no-check-set", dest="check_set", action="store_false",
                        help="leave the out-of-distribution check set out of the model card (quicker)")
    args = parser.parse_args()
    unknown = [b for b in args.coarse_only if b not in GROUPS[args.scale]]
    if unknown:  # before the pairs are loaded
        parser.error("--coarse-only %s: not a target band of the %dx network (%s)"
                     % (" ".join(unknown), args.scale, " ".join(GROUPS[args.scale])))
    args.precision = select_precision(args.precision, args.device)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    train(args)


if __name__ == "__main__":
    main()
