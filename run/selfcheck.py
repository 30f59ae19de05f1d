"""Self-check: before a run writes its output, each network is scored on the user's own scene by the Wald protocol
(windows spread over the area, every band degraded by the network's scale and restored), per band beside bicubic
upsampling and HPF pan-sharpening. A band where the network loses to the better classical method is produced by
that method instead, so the output is never worse than a classical method on the scene's own evidence. The model of
a model card is checked the same way against bicubic upsampling (`card_check`).

The check's verdict is taken one scale coarser than the output. Where a network carries a ScaleShift (fitted by
`training.selfcheck` on scenes where both scales can be scored), the network's lead over each classical method is
corrected by how that lead changed from the check's scale to the output's there, and a band is given to a classical
method only where that method is still ahead by more than the spread of the correction."""
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..core import pansharpen, resample
from ..core.bands import GROUPS, pixel_factor
from ..core.degrade import wald_pair
from ..core.errors import tr
from ..core.fits import ScaleShift
from ..core.raster import invalid, read_window
from ..core.scene import scene_stats
from .estimates import card_estimates

WINDOWS = 4  # per side: up to 16 windows spread over the area
SIDE = {2: 256, 6: 576}  # 10 m pixels a side of a window: whole cells of the degraded coarsest band
CELL = {2: 4, 6: 36}  # 10 m pixels of one cell of the degraded coarsest band
MIN_CELLS = 4  # a window must hold at least this many such cells a side
NAMES = {"model": "model", "hpf": "HPF", "bicubic": "bicubic"}


@dataclass
class Check:
    """The outcome for one network: per band the SRE (dB) of each method, and the method the output takes."""
    scale: int
    sre: dict  # method -> per-band SRE; empty when the area could not be checked
    use: tuple  # per band: "model", "hpf" or "bicubic"
    note: str = ""  # why the area could not be checked
    bands: tuple = ()  # the bands checked (default: those the scale's network sharpens)
    label: str = ""  # what was checked (default: "<scale>x")
    shift: ScaleShift = None  # the correction of the verdicts, where the network has one

    def report(self, picked=None):
        """The verdict per band, of the bands among `picked` (default: all)."""
        label = self.label or "%dx" % self.scale
        if self.note:
            return "%s: %s" % (label, self.note)
        return "%s: " % label + "; ".join(
            "%s %s (%s%s)" % (band, NAMES[use], ", ".join("%s %.2f dB" % (NAMES[m], self.sre[m][i]) for m in self.sre),
                              self._expected(i))
            for i, (band, use) in enumerate(zip(self.bands or GROUPS[self.scale], self.use))
            if picked is None or band in picked)

    def _expected(self, i):
        """What the shift makes of band i's leads at the output's scale, or nothing."""
        if not self.shift:
            return ""
        return "; lead at the output's scale expected: " + ", ".join(
            "over %s %+.2f +- %.2f dB" % (NAMES[m], lead(self.sre, self.shift, m, i), self.shift.spread[m][i])
            for m in ("hpf", "bicubic"))

    def replace(self, sharp, baselines):
        """A network's output (N, bands, rows, cols) on a block with the bands the check gave to a classical method
        taken from that method's estimate (`baselines`, a Baselines of the same block)."""
        for i, use in enumerate(self.use):
            if use != "model":
                sharp[:, i] = getattr(baselines, use)[:, i]
        return sharp


class Baselines:
    """The classical estimates of a network's bands on one block (its input `arrays`, as the network takes it, and
    the scene's `stats`), each computed when first asked for: `bicubic` (every band upsampled from its own pixel
    size) and `hpf` (HPF pan-sharpening, for the plugin's networks)."""

    def __init__(self, net, arrays, stats):
        self.net, self.arrays, self.stats = net, arrays, stats

    @cached_property
    def bicubic(self):
        return np.stack([resample.bicubic(self.arrays[f][:, GROUPS[f].index(band)], f * self.net.per_10m)
                         for band, f in zip(self.net.bands, map(pixel_factor, self.net.bands))], 1)

    @cached_property
    def hpf(self):
        return pansharpen.hpf(self.arrays[1], self.arrays[self.net.scale], self.stats, self.net.scale)


def wald_windows(datasets, shifts, grid, scale):
    """Wald pairs (core.degrade) of up to 16 windows spread over the area of `grid` (the inputs `datasets` with their
    offsets `shifts`), windows with no-data left out, and their SceneStats; or ([], None, why not)."""
    factors = (1, 2, 6) if scale == 6 else (1, 2)
    scenes, note = _scenes(datasets, shifts, grid, factors, SIDE[scale], CELL[scale])
    if not scenes:
        return [], None, note
    pairs = [wald_pair(scene, scale) for scene in scenes]
    keys = ("hi", "mid", "lo")[: len(factors)]
    return pairs, scene_stats([[p[k] for k in keys] for p in pairs], scale), ""


def _scenes(datasets, shifts, grid, factors, side, cell):
    """Windows of `side` (whole `cell`s) spread over the area: [{factor: (bands, rows, cols)}] without no-data, and
    the reason when there are none."""
    side = min(side, grid.rows - grid.rows % cell, grid.cols - grid.cols % cell)
    if side < MIN_CELLS * cell:
        return [], tr("the area is too small to check the network (it needs %d x %d pixels at 10 m): the network is "
                      "used") % ((MIN_CELLS * cell,) * 2)
    scenes = []
    for row in _starts(grid.rows, side, grid.block):
        for col in _starts(grid.cols, side, grid.block):
            scene = {}
            for f in factors:
                data = read_window(datasets[f], grid, f, (row, col, side, side), len(GROUPS[f]))
                if invalid(datasets[f], data).any():
                    break
                scene[f] = data + shifts[f]
            else:
                scenes.append(scene)
    return scenes, "" if scenes else tr("every checked window holds no-data pixels: the network is used")


def card_check(net, datasets, shifts, grid):
    """Check the model of a card (models.cards.CardNetwork) the same way, against bicubic upsampling (`card_sre`); a
    band where the model loses is produced by bicubic upsampling instead (CardRunner)."""
    card = net.card
    label = tr("card %s") % card.name
    scenes, note = _scenes(datasets, shifts, grid, (1, 2), SIDE[2], 2 * card.factor)
    if not scenes:
        return Check(card.factor, {}, ("model",) * len(card.bands), note, card.bands, label)
    sre = card_sre(net, scenes)
    return Check(card.factor, sre, verdicts(sre), "", card.bands, label)


def card_sre(net, scenes):
    """{"model", "bicubic": per-band SRE (dB)} of a card's model over scenes ({1: 10 m, 2: 20 m} arrays whose sides
    are whole multiples of 2 x the card's factor) by the Wald protocol (run.estimates.card_estimates), pooled over
    the scenes, in the card's band order."""
    bands = list(net.card.bands)
    windows = (([bands.index(b) for b in names], measured, guesses) for scene in scenes
               for names, measured, guesses in card_estimates(net, scene).values())
    return pooled_sre(windows, len(bands), ("model", "bicubic"))


def self_check(net, pairs, note):
    """Check `net` on the Wald pairs of `wald_windows` with their estimates (`run.estimates.estimated`; `note` why
    there are none)."""
    bands = GROUPS[net.scale]
    if not pairs:
        return Check(net.scale, {}, ("model",) * len(bands), note)
    sre = pooled_sre(((slice(None), pair["target"].astype(np.float64), guesses) for pair, guesses in pairs),
                     len(bands), NAMES)
    return Check(net.scale, sre, verdicts(sre, net.check_shift), shift=net.check_shift)


def verdicts(sre, shift=None):
    """Per band the method the output takes, from {method: per-band SRE} of the network ("model") and classical
    methods: the classical method the network trails the most, where it trails it (corrected by `shift`: by more
    than the correction's spread); else the network."""
    use = []
    for i in range(len(sre["model"])):
        behind = {m: -lead(sre, shift, m, i) - (shift.spread[m][i] if shift else 0) for m in sre if m != "model"}
        method = max(behind, key=behind.get)
        use.append(method if behind[method] > 0 else "model")
    return tuple(use)


def lead(sre, shift, method, i):
    """The network's lead (dB) over a classical method on band i, corrected by `shift` where there is one."""
    return sre["model"][i] - sre[method][i] + (shift.shift[method][i] if shift else 0)


def pooled_sre(estimated, bands, methods):
    """{method: per-band SRE (dB)} of `methods` over all the pixels of several windows, their squared errors pooled:
    `estimated` yields, per window, (the indices among `bands` bands of those it holds, their true values (bands, rows,
    cols), {method: estimate of the same shape})."""
    errors = {m: np.zeros(bands) for m in methods}
    truth, count = np.zeros(bands), np.zeros(bands)
    for at, measured, guesses in estimated:
        for m, guess in guesses.items():
            errors[m][at] += ((guess - measured) ** 2).sum((1, 2))
        truth[at] += measured.sum((1, 2))
        count[at] += measured[0].size
    return {m: (10 * np.log10((truth / count) ** 2 / np.maximum(e / count, 1e-12))).tolist() for m, e in errors.items()}


def _starts(size, side, step):
    """Up to WINDOWS window starts spread over `size`, on whole coarse pixels (`step`)."""
    return sorted({min(size - side, round(i * (size - side) / max(WINDOWS - 1, 1))) // step * step
                   for i in range(WINDOWS)})
