"""Fit the scale shift of a network's self-check (core.fits.ScaleShift) on scenes it never trained on.

    python -m s2sr.training.selfcheck models/dsen2_oscd_2x.pt models/dsen2_oscd_6x.pt      (part of make calibrate)

The self-check judges a network one scale coarser than the output. On the OSCD test sites (both dates: held out from
training) large enough to be degraded twice, the network's lead over bicubic upsampling and HPF pan-sharpening is
measured at both scales: on the scene's Wald pair (the output's scale) and on the Wald pair of that pair's inputs
(the check's). Per band and method, the mean change of the lead and its standard deviation over the scenes are
stored in the weight file (key "self_check"). Where fewer than MIN_SCENES scenes are large enough (6x: the OSCD test
sites are too small), nothing is stored and the check's verdicts stay uncorrected.
"""
import numpy as np

from ..core.degrade import wald_pair
from ..run.estimates import estimates
from ..core.metrics import sre
from ..core.fits import ScaleShift
from . import checkset
from .confidence import MIN_SCENES, as_pair_scene, store_fits

METHODS = ("hpf", "bicubic")
SOURCE = "the OSCD test sites (both dates) degraded once and twice"


def leads(net, scene):
    """({method: per-band lead (dB) of the network over it}, the Wald pair) on `scene` degraded by the network's
    scale."""
    pair = wald_pair(scene, net.scale)
    made = estimates(net, pair)
    model = sre(pair["target"], made["model"])
    return {m: model - sre(pair["target"], made[m]) for m in METHODS}, pair


def fit(net, scenes, steps):
    """(the ScaleShift of `net` from {name: scene}, or None with fewer than MIN_SCENES scenes large enough to be
    degraded twice; how many were)."""
    changes = {m: [] for m in METHODS}
    for scene in scenes.values():
        output, pair = leads(net, scene)
        twice = as_pair_scene(pair)
        if checkset.fits(twice, net.scale):
            check, _ = leads(net, twice)
            for m in METHODS:
                changes[m].append(output[m] - check[m])
    used = len(changes[METHODS[0]])
    if used < MIN_SCENES:
        return None, used
    return ScaleShift(net.scale, {m: np.mean(c, 0).tolist() for m, c in changes.items()},
                      {m: np.std(c, 0, ddof=1).tolist() for m, c in changes.items()}, SOURCE, steps), used


def describe(net, shift, used):
    if not shift:
        return ("no scale shift (%d scenes large enough to degrade twice, %d needed): the check's verdicts stay "
                "uncorrected" % (used, MIN_SCENES))
    return "the network's lead, output's scale minus check's, over %d scenes: %s" % (used, "; ".join(
        "%s " % band + ", ".join("over %s %+.2f +- %.2f dB" % (m, shift.shift[m][i], shift.spread[m][i])
                                 for m in METHODS) for i, band in enumerate(net.bands)))


def main():
    store_fits(__doc__, fit, "self_check", describe)


if __name__ == "__main__":
    main()
