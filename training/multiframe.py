"""Train (or resume training) the multi-frame network (models.multiframe) by the Wald protocol on synthetic stacks.

    python -m s2sr.training.multiframe --minutes 60 [--out models/multiframe_rgbn.pt]

A stack is made from one real scene's 10 m bands (B2 B3 B4 B8), the truth: every frame is the scene moved by a
random sub-pixel shift (Fourier shift of the mirrored scene: no interpolation blur), degraded by the Wald protocol
(Gaussian of sigma 1/2 px, 2 x 2 block mean) to 20 m, given its own radiometric change (a gain and offset per band
and a smooth local gain), sensor noise and, in some frames, a cloud (a bright blob its mask flags). Frame 0, the
reference, is not moved; the network learns 20 m -> 10 m from the stack and runs 10 m -> 5 m (scale invariance).
Scenes: the OSCD training sites (both dates) of ../shared/data; the OSCD test sites are the validation set, the check
set (training.checkset) stays unseen. A share REAL of the stacks is made from an OSCD training site's two real dates
where they lie on one grid: the later date is the truth and the reference, frame 1 is the earlier date at the same
place (what changed on the ground in between, and the dates' real misregistration, measured once per site by phase
correlation as s2sr:multitemporal measures it), the other frames synthetic; so the network meets frames that differ
from the reference for real and learns how far to trust them. Validation: synthetic stacks of 1 and 8 frames, and
the OSCD test sites' real pairs of dates. If --out exists the run resumes from it (weights, optimizer, record); it is
replaced at the end only if the validation score did not fall, and its card (<out without .pt>.md) is written.
"""
import argparse
import datetime
import logging
import os
import sys
import time

import numpy as np
import torch
from torch.nn import functional as F

from ..core.bands import BANDS_10M
from ..core.devices import PRECISIONS, autocast, select_precision
from ..core.metrics import sre
from ..core.registration import fourier_shift, phase_correlation
from ..models import load_checkpoint, save_checkpoint
from ..models.dsen2 import bicubic, wald
from ..models.multiframe import MultiFrameNet
from .data import oscd_root, oscd_sites, read_scene
from .model_card import multiframe_card

LOG = logging.getLogger(__name__)

SCALE = 2
SHIFT_STD = 0.3  # frame shifts, in low-resolution pixels per axis: N(0, this), clipped to +-3 times it
SHIFT_ERROR = 0.03  # the error of a measured shift (core.registration), pixels: what the network is given
CLOUDY = 0.3  # share of frames (not the reference) with a cloud
PATCH = 32  # low-resolution pixels a side of a training stack
MARGIN = 8  # low-resolution pixels cut off each side after the shift and the degradation
BATCH = 8
MAX_FRAMES = 8
STD_FLOOR = 1.0
REAL = 0.25  # share of training stacks whose frame 1 is the other real date of an OSCD site
VALIDATION_SIDE = 240  # 10 m pixels a side of the real pairs' validation crops (every OSCD test site has them)


def scenes(split):
    """The 10 m bands (float32 (4, rows, cols) DN) of the OSCD sites of `split`, both dates: {name: array}."""
    root = oscd_root()
    return {"%s_%d" % (site, d): read_scene(os.path.join(root, site, "imgs_%d" % d))[1]
            for site in oscd_sites(split, root) for d in (1, 2)}


def real_pairs(split):
    """The OSCD sites of `split` whose two dates lie on one grid: {site: (the later date's 10 m bands, the earlier's
    (float32 (4, rows, cols) DN), the earlier's core.registration.Shift against the later at 20 m)}."""
    root, pairs = oscd_root(), {}
    for site in oscd_sites(split, root):
        later, earlier = (read_scene(os.path.join(root, site, "imgs_%d" % d))[1] for d in (2, 1))
        if later.shape == earlier.shape:
            low = [wald(torch.from_numpy(x[None]), SCALE)[0, 3].numpy() for x in (later, earlier)]
            pairs[site] = later, earlier, phase_correlation(*low)
    return pairs


def with_real_frame(stack, other, shift, rng):
    """A stack of make_stacks (2 frames or more) whose frame 1 becomes `other` (N, bands, H, W) DN, the same place on
    another date, lying `shift` (rows, cols) low-resolution pixels from the reference: degraded, with the frames'
    noise, all of it usable."""
    low = wald(other, SCALE)[..., MARGIN:-MARGIN, MARGIN:-MARGIN]
    stack["frames"][:, 1] = low + noise(low, low.mean((-2, -1), keepdim=True), rng)
    stack["masks"][:, 1] = 1
    stack["shifts"][:, 1] = stack["measured"][:, 1] = torch.tensor(shift)
    stack["stats"] = frame_stats(stack["frames"], stack["masks"])
    return stack


def make_stacks(truth, frames, rng, shift_std=SHIFT_STD, cloudy=CLOUDY):
    """Synthetic stacks from truth patches (N, bands, H, W) DN (H, W multiples of 2, with 2 * MARGIN pixels to cut
    off): {"frames" (N, T, bands, h, w), "masks" (N, T, 1, h, w), "stats" (N, T, 2, bands), "truth" (N, bands,
    2h, 2w), "shifts" (N, T, 2) in low-resolution pixels (row, col), "measured": the same as a measurement gives them
    (SHIFT_ERROR)}, h = H / 2 - 2 * MARGIN."""
    n, bands, rows, cols = truth.shape
    shifts = np.clip(rng.normal(0, shift_std, (n, frames, 2)), -3 * shift_std, 3 * shift_std)
    shifts[:, 0] = 0
    moved = torch.from_numpy(fourier_shift(truth.numpy()[:, None], shifts[:, :, None] * SCALE)).float()  # N,T,b,H,W
    low = wald(moved.flatten(0, 1), SCALE).unflatten(0, (n, frames))
    low = low[..., MARGIN:-MARGIN, MARGIN:-MARGIN]
    h, w = low.shape[-2:]
    gains = torch.from_numpy(np.exp(rng.normal(0, 0.1, (n, frames, bands, 1, 1)))).float()
    level = low.mean((-2, -1), keepdim=True)
    offsets = torch.from_numpy(rng.normal(0, 0.05, (n, frames, bands, 1, 1))).float() * level
    field = torch.from_numpy(rng.normal(0, 0.05, (n * frames, 1, 4, 4))).float()
    local = 1 + F.interpolate(field, size=(h, w), mode="bicubic", align_corners=False).unflatten(0, (n, frames))
    gains[:, 0], offsets[:, 0], local[:, 0] = 1, 0, 1  # the reference keeps its values
    low = low * gains * local + offsets
    low = low + noise(low, level, rng)
    masks = torch.ones(n, frames, 1, h, w)
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    for i, t in zip(*np.nonzero(rng.random((n, frames)) < cloudy)):
        if t == 0:
            continue
        cy, cx, ry, rx = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.1, 0.5) * h, rng.uniform(0.1, 0.5) * w
        cloud = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
        masks[i, t, 0][cloud] = 0
        low[i, t][:, cloud] = float(rng.uniform(2000, 8000))
    truth = truth[..., SCALE * MARGIN : rows - SCALE * MARGIN, SCALE * MARGIN : cols - SCALE * MARGIN]
    measured = shifts + rng.normal(0, SHIFT_ERROR, shifts.shape) * (np.arange(frames) > 0)[None, :, None]
    return dict(frames=low, masks=masks, stats=frame_stats(low, masks), truth=truth, shifts=torch.from_numpy(shifts),
                measured=torch.from_numpy(measured).float())


def noise(low, level, rng):
    """Sensor noise for degraded frames `low` whose mean is `level` DN: 3 DN plus 0.3 % of the level."""
    return torch.from_numpy(rng.normal(0, 1, low.shape)).float() * (3 + 0.003 * level)


def frame_stats(frames, masks):
    """Each frame's mean and standard deviation per band over its usable pixels: (N, T, 2, bands)."""
    count = masks.sum((-2, -1)).clamp(min=1)
    mean = (frames * masks).sum((-2, -1)) / count
    var = (((frames - mean[..., None, None]) * masks) ** 2).sum((-2, -1)) / count
    return torch.stack([mean, var.sqrt().clamp(min=STD_FLOOR)], 2)


class StackSampler:
    """Random truth patches (flips and 90-degree rotations) of the training scenes, drawn in proportion to area; a
    share REAL of the stacks from the real pairs of dates (`real_pairs`)."""

    def __init__(self, truths, pairs, rng):
        self.truths = [torch.from_numpy(t) for t in truths.values()]
        self.pairs = [(torch.from_numpy(a), torch.from_numpy(b), shift) for a, b, shift in pairs.values()]
        self.rng = rng

    def batch(self, size, frames):
        if self.pairs and self.rng.random() < REAL:
            chosen = self._crops([pair[:2] for pair in self.pairs], size)
            stack = make_stacks(torch.stack([c[0][0] for c in chosen]), max(frames, 2), self.rng)
            shifts = [moved(self.pairs[k][2], flip, turns) for (_, k, flip, turns) in chosen]
            return with_real_frame(stack, torch.stack([c[0][1] for c in chosen]), shifts, self.rng)
        return make_stacks(torch.stack([c[0][0] for c in self._crops([(t,) for t in self.truths], size)]),
                           frames, self.rng)

    def _crops(self, groups, size):
        """`size` random patches, each the same window of every image of one group (drawn by area), flipped and
        turned alike: [(patches, group index, flipped, quarter turns)]."""
        side = SCALE * (PATCH + 2 * MARGIN)
        area = np.array([g[0].shape[1] * g[0].shape[2] for g in groups], float)
        crops = []
        for k in self.rng.choice(len(groups), size, p=area / area.sum()):
            i, j = (int(self.rng.integers(0, n - side + 1)) for n in groups[k][0].shape[1:])
            flip, turns = self.rng.random() < 0.5, int(self.rng.integers(4))
            crops.append(([torch.rot90(t[:, i : i + side, j : j + side].flip(-1) if flip else
                                       t[:, i : i + side, j : j + side], turns, (1, 2)) for t in groups[k]],
                          k, flip, turns))
        return crops


def moved(shift, flip, turns):
    """A shift (rows, cols) as it is after the image is flipped left-right (if `flip`) and turned by `turns` quarter
    turns (torch.rot90 over its rows and columns)."""
    rows, cols = shift[0], -shift[1] if flip else shift[1]
    for _ in range(turns):
        rows, cols = -cols, rows
    return rows, cols


def super_resolve_stack(net, stack, block=64, precision="float32"):
    """The network's output for whole stacks (make_stacks' arrays, any size; the shifts given as "measured"), block
    by block with its margin."""
    frames, masks, stats, shifts = stack["frames"], stack["masks"], stack["stats"], stack["measured"]
    h, w = frames.shape[-2:]
    out = torch.zeros(frames.shape[0], frames.shape[2], SCALE * h, SCALE * w)
    m = net.margin
    with torch.no_grad(), autocast("cpu", precision):
        for i in range(0, h, block):
            for j in range(0, w, block):
                r0, c0 = max(0, i - m), max(0, j - m)
                r1, c1 = min(h, i + block + m), min(w, j + block + m)
                y = net(frames[..., r0:r1, c0:c1], masks[..., r0:r1, c0:c1], stats, shifts).float()
                out[..., SCALE * i : SCALE * min(h, i + block), SCALE * j : SCALE * min(w, j + block)] = y[
                    ..., SCALE * (i - r0) : SCALE * (i - r0 + min(block, h - i)),
                    SCALE * (j - c0) : SCALE * (j - c0 + min(block, w - j))]
    return out


def validation_stacks(truths, frames, seed=0, side=192):
    """Fixed stacks of `frames` frames over the centre (side x side 10 m pixels, with the margin) of each scene."""
    rng = np.random.default_rng(seed)
    return {name: make_stacks(torch.from_numpy(centre(t, side)[None]), frames, rng) for name, t in truths.items()
            if min(t.shape[1:]) >= side + 2 * SCALE * MARGIN}


def real_validation(pairs, seed=0, side=VALIDATION_SIDE):
    """Fixed stacks of the real pairs of dates (`real_pairs`) over each site's centre, as `validation_stacks`."""
    rng = np.random.default_rng(seed)
    return {site: with_real_frame(make_stacks(torch.from_numpy(centre(later, side)[None]), 2, rng),
                                  torch.from_numpy(centre(earlier, side)[None]), [shift[:2]], rng)
            for site, (later, earlier, shift) in pairs.items() if min(later.shape[1:]) >= side + 2 * SCALE * MARGIN}


def centre(image, side):
    """The centre side x side pixels of `image` (bands, rows, cols) with the stacks' margin, at even offsets."""
    full = side + 2 * SCALE * MARGIN
    i, j = ((n - full) // 2 // 2 * 2 for n in image.shape[1:])
    return image[:, i : i + full, j : j + full]


def gain(net, stacks, precision="float32"):
    """Mean over the stacks and bands of the network's SRE minus bicubic's (of the reference), dB."""
    gains = []
    for stack in stacks.values():
        truth = stack["truth"][0].numpy()
        out = super_resolve_stack(net, stack, precision=precision)[0].numpy()
        base = bicubic(stack["frames"][:, 0], SCALE)[0].numpy()
        gains.append(np.mean(sre(truth, out)) - np.mean(sre(truth, base)))
    return float(np.mean(gains))


def train(args):
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    sampler = StackSampler(scenes("train"), real_pairs("train"), rng)
    validation = {t: validation_stacks(scenes("test"), t) for t in (1, 8)}
    validation["real pairs"] = real_validation(real_pairs("test"))
    if os.path.exists(args.out):
        ckpt = load_checkpoint(args.out)
        net = MultiFrameNet(**ckpt["config"])
        net.load_state_dict(ckpt["state_dict"])
        record = ckpt["record"]
    else:
        net, ckpt, record = MultiFrameNet(), None, dict(steps=0, seconds=0.0, runs=[])
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.0)
    if ckpt and "optimizer" in ckpt:
        opt.load_state_dict(ckpt["optimizer"])
    net.eval()
    before = {t: gain(net, v) for t, v in validation.items()}
    LOG.info("validation before: %s", before)
    precision = select_precision(args.precision, "cpu")
    start, steps, last_save = time.time(), 0, time.time()
    net.train()
    while time.time() - start < 60 * args.minutes:
        ramp = min(1.0, 0.02 + steps / 200)
        for group in opt.param_groups:
            group["lr"] = args.lr * ramp
        b = sampler.batch(BATCH, int(rng.integers(1, MAX_FRAMES + 1)))
        with autocast("cpu", precision):
            out = net(b["frames"], b["masks"], b["stats"], b["measured"])
        loss = ((out.float() - b["truth"]).abs() / b["stats"][:, 0, 1, :, None, None]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
        if steps % 100 == 0:
            LOG.info("step %d  %.0f s  L1 %.4f", record["steps"] + steps, time.time() - start, loss.item())
        if time.time() - last_save > 300:
            save(args.out + ".partial", net, opt, record, steps, time.time() - start, None)
            last_save = time.time()
    net.eval()
    after = {t: gain(net, v) for t, v in validation.items()}
    LOG.info("validation after: %s (before %s)", after, before)
    result = dict(validation=after, date=datetime.date.today().isoformat(), real_pairs=REAL,
                  command="python -m s2sr.training.multiframe " + " ".join(sys.argv[1:]))
    if ckpt is None or score(after) >= score(before):
        save(args.out, net, opt, record, steps, time.time() - start, result)
        multiframe_card(args.out, load_checkpoint(args.out))
        LOG.info("saved %s and its card", args.out)
    else:
        save(args.out + ".partial", net, opt, record, steps, time.time() - start, result)
        LOG.info("validation fell: the run stays in %s.partial", args.out)


def score(validation):
    """What a run must not lower for its weights to replace the last: the mean of the 8-frame synthetic and the
    real-pair validation gains (the 8-frame one alone where the record has no real pairs)."""
    return float(np.mean([validation[k] for k in (8, "real pairs") if k in validation]))


def save(path, net, opt, record, steps, seconds, result):
    record = dict(record, steps=record["steps"] + steps, seconds=record["seconds"] + seconds,
                  runs=record["runs"] + ([result] if result else []))
    save_checkpoint(dict(config=net.config, state_dict=net.state_dict(), optimizer=opt.state_dict(), record=record,
                         bands=list(BANDS_10M)), path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                      "models", "multiframe_rgbn.pt"))
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--precision", choices=PRECISIONS, default="auto")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    train(args)


if __name__ == "__main__":
    main()
