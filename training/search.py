"""Depth / width / learning-rate search at equal training time, scored on OSCD training sites held out
for validation (the test sites are not looked at).

    python -m s2sr.training.search --scale 2 --minutes 8 --configs 64x4 96x4 64x8 64x4@2e-3

Each config (WIDTHxDEPTH, optionally @LR) trains from scratch for the same wall time and thread count,
on the training sites minus --validation, and is scored on the --validation sites (both dates). Prints a
Markdown table; a row is printed as soon as its run ends.
"""
import argparse
import os
import time

import numpy as np
import torch

from ..models.dsen2 import DSen2
from .data import load_pairs
from .evaluate import evaluate, sre_gain
from .train import BATCH, PATCH, PatchSampler, fit

VALIDATION = ("bordeaux", "cupertino", "hongkong")


def parse_config(text):
    """'64x4@2e-3' -> (64, 4, 0.002); the learning rate defaults to 1e-3."""
    shape, _, lr = text.partition("@")
    width, depth = (int(v) for v in shape.split("x"))
    return width, depth, float(lr or 1e-3)


def split_sites(pairs, validation):
    """(training pairs, validation pairs): pair names are <site>_<date>."""
    held = {k: v for k, v in pairs.items() if k.rsplit("_", 1)[0] in validation}
    return {k: v for k, v in pairs.items() if k not in held}, held


def run(scale, config, train_pairs, val_pairs, minutes, seed=0):
    """Train one config from scratch for `minutes`; its row of the table."""
    width, depth, lr = parse_config(config)
    torch.manual_seed(seed)
    net = DSen2(scale=scale, width=width, depth=depth)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sampler = PatchSampler(train_pairs, scale, PATCH[scale], np.random.default_rng(seed))
    start = time.time()
    steps = fit(net, opt, sampler, BATCH[scale], minutes * 60.0, lr)
    seconds = time.time() - start
    result = evaluate(net, val_pairs)
    sre = lambda m: float(np.mean(result[m]["sre"]))  # noqa: E731
    return "| %d | %d | %.0e | %s | %d | %.0f | %.2f | %+.2f | %.3f | %.3f |" % (
        width, depth, lr, format(sum(p.numel() for p in net.parameters()), ","), steps, seconds,
        sre("model"), sre_gain(result), result["bicubic"]["sam"], result["model"]["sam"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, choices=(2, 6), required=True)
    parser.add_argument("--configs", nargs="+", required=True, help="WIDTHxDEPTH[@LR], e.g. 64x4 96x6@5e-4")
    parser.add_argument("--minutes", type=float, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", default="data/packed")
    parser.add_argument("--validation", nargs="+", default=list(VALIDATION), help="training sites held out")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train_pairs, val_pairs = split_sites(load_pairs(os.path.join(args.data, "%dx" % args.scale, "train")),
                                         args.validation)
    if not val_pairs:
        raise SystemExit("none of the validation sites %s is among the packed training pairs" % args.validation)
    print("%dx: %d training scenes, %d validation scenes (%s), %g min each, %d thread(s)\n" % (
        args.scale, len(train_pairs), len(val_pairs), ", ".join(args.validation), args.minutes, args.threads))
    print("| width | depth | lr | parameters | steps | seconds | SRE model (dB) | gain over bicubic (dB) "
          "| SAM bicubic | SAM model |")
    print("|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for config in args.configs:
        print(run(args.scale, config, train_pairs, val_pairs, args.minutes), flush=True)


if __name__ == "__main__":
    main()
