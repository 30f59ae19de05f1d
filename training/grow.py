"""Grow a trained DSen2 network wider or deeper without changing what it computes, so that training resumes from it
with more capacity instead of starting again (Net2Net, Chen et al. 2016, in its simplest form).

    python -m s2sr.training.grow models/dsen2_oscd_2x.pt data/grown/dsen2_oscd_2x.pt --width 96 --depth 6

Wider: the new channels of the head and of each ResBlock's convolutions start with a fresh layer's random weights;
every weight by which a new channel would reach an old one, and the tail's weights from the new channels, start at
zero. The output is unchanged, and the zero weights get a gradient at the first step (the new channels carry
activations). Deeper: new ResBlocks, appended after the last, start with a zero second convolution, an identity.
The optimizer's moments are grown alike: zero first moments for the new weights, and second moments at the mean of
their tensor's old ones, so that Adam's first steps on them are of the usual size. The training record is kept, with
a run that says how the network was grown.
"""
import argparse
import datetime

import torch

from ..models import load_checkpoint
from ..models.dsen2 import DSen2


def grow(ckpt, width=None, depth=None, seed=0):
    """A checkpoint (config, state_dict, optimizer, record) of the same network, `width` channels wide and `depth`
    ResBlocks deep (None: as it is), computing the same output."""
    old_cfg = ckpt["config"]
    cfg = dict(old_cfg, width=width or old_cfg["width"], depth=depth or old_cfg["depth"])
    if cfg["width"] < old_cfg["width"] or cfg["depth"] < old_cfg["depth"]:
        raise ValueError("a network can only be grown: it is %(width)d wide and %(depth)d deep" % old_cfg)
    with torch.random.fork_rng():  # the caller's random state untouched
        torch.manual_seed(seed)
        fresh = DSen2(**cfg).state_dict()
    old = ckpt["state_dict"]
    w = old_cfg["width"]
    state = {}
    for key, value in fresh.items():
        if key not in old:  # a new ResBlock: its second convolution zero, an identity
            state[key] = torch.zeros_like(value) if key.split(".")[3] == "2" else value
            continue
        value = value.clone()
        if key == "tail.weight":
            value[:, w:] = 0  # nothing reaches the output from a new channel
        elif key.endswith(".weight") and key.startswith("body."):
            value[:w, w:] = 0  # nor an old channel
        value[_corner(old[key])] = old[key]
        state[key] = value
    note = "grown from width %d, depth %d (training.grow)" % (w, old_cfg["depth"])
    run = {"date": datetime.date.today().isoformat(), "steps": 0, "seconds": 0, "threads": 1, "device": "cpu",
           "note": note}
    record = dict(ckpt["record"], runs=ckpt["record"]["runs"] + [run])
    return dict(ckpt, config=cfg, state_dict=state, optimizer=_grow_moments(ckpt["optimizer"], old, state),
                record=record)


def _grow_moments(opt_state, old, state):
    """Adam's state for the grown parameters (`state`, in the network's order; `old` the parameters before):
    the old moments copied in, zero first moments and mean second moments for the new entries."""
    old_index = {key: i for i, key in enumerate(old)}
    moments = {}
    for i, (key, value) in enumerate(state.items()):
        s = opt_state["state"].get(old_index.get(key))
        if s is None:  # a new tensor: Adam starts its moments itself
            continue
        avg, sq = torch.zeros(value.shape), torch.full(value.shape, float(s["exp_avg_sq"].mean()))
        avg[_corner(old[key])], sq[_corner(old[key])] = s["exp_avg"], s["exp_avg_sq"]
        moments[i] = dict(s, exp_avg=avg, exp_avg_sq=sq)
    (group,) = opt_state["param_groups"]
    return {"state": moments, "param_groups": [dict(group, params=list(range(len(state))))]}


def _corner(tensor):
    """The index of a tensor's place in its grown copy: its first rows and columns in every dimension."""
    return tuple(slice(0, n) for n in tensor.shape)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="weight file to grow")
    parser.add_argument("out", help="weight file to write (train it further with training.train --out)")
    parser.add_argument("--width", type=int, help="channels (default: as it is)")
    parser.add_argument("--depth", type=int, help="ResBlocks (default: as it is)")
    args = parser.parse_args()
    torch.save(grow(load_checkpoint(args.source), args.width, args.depth), args.out)


if __name__ == "__main__":
    main()
