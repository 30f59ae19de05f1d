"""Depth / width / learning-rate search at equal compute, scored on OSCD training sites held out for
validation (the test sites are not looked at).

    python -m s2sr.training.search --scale 2 --steps 1800 --configs 64x4 96x4 64x8 64x4@2e-3

Each config (WIDTHxDEPTH, optionally @LR) trains from scratch on the training sites minus --validation
and is scored on the --validation sites (both dates). Budgets are equal in arithmetic, not wall time (which
other work on the machine would skew): --steps is the budget of a width-64, depth-4 network, and a config
gets steps in inverse proportion to its multiply-adds per position (all its convolutions run on the same
grid, so these are proportional to its parameters). Prints a Markdown table, a row as soon as its run ends.
"""
import argparse
import os
import time

import numpy as np
import torch

from ..models.backends import TorchNetwork
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


def parameters(net):
    return sum(p.numel() for p in net.parameters())


def run(scale, config, train_pairs, val_pairs, reference_steps, seed=0):
    """Train one config from scratch on the compute of `reference_steps` steps of a 64 x 4 network; its row."""
    width, depth, lr = parse_config(config)
    torch.manual_seed(seed)
    net = DSen2(scale=scale, width=width, depth=depth)
    steps = max(1, round(reference_steps * parameters(DSen2(scale=scale)) / parameters(net)))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sampler = PatchSampler(train_pairs, scale, PATCH[scale], np.random.default_rng(seed))
    start = time.time()
    fit(net, opt, sampler, BATCH[scale], float("inf"), lr, max_steps=steps)
    seconds = time.time() - start
    result = evaluate(TorchNetwork(net.eval()), val_pairs)
    sre = lambda m: float(np.mean(result[m]["sre"]))  # noqa: E731
    return "| %d | %d | %.0e | %s | %d | %.0f | %.2f | %+.2f | %.3f | %.3f |" % (
        width, depth, lr, format(parameters(net), ","), steps, seconds,
        sre("model"), sre_gain(result), result["bicubic"]["sam"], result["model"]["sam"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, choices=(2, 6), required=True)
    parser.add_argument("--configs", nargs="+", required=True, help="WIDTHxDEPTH[@LR], e.g. 64x4 96x6@5e-4")
    parser.add_argument("--steps", type=int, default=1800, help="budget, in steps of a width-64, depth-4 network")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", default="data/packed")
    parser.add_argument("--validation", nargs="+", default=list(VALIDATION), help="training sites held out")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train_pairs, val_pairs = split_sites(load_pairs(os.path.join(args.data, "%dx" % args.scale, "train")),
                                         args.validation)
    if not val_pairs:
        raise SystemExit("none of the validation sites %s is among the packed training pairs" % args.validation)
    print("%dx: %d training scenes, %d validation scenes (%s), the compute of %d steps of 64 x 4 each, %d thread(s)\n"
          % (args.scale, len(train_pairs), len(val_pairs), ", ".join(args.validation), args.steps, args.threads))
    print("| width | depth | lr | parameters | steps | seconds | SRE model (dB) | gain over bicubic (dB) "
          "| SAM bicubic | SAM model |")
    print("|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for config in args.configs:
        print(run(args.scale, config, train_pairs, val_pairs, args.steps), flush=True)


if __name__ == "__main__":
    main()
