"""Self-check: before a run writes its output, each network is scored on the user's own scene by the Wald protocol
(windows spread over the area, every band degraded by the network's scale and restored), per band beside bicubic
upsampling and HPF pan-sharpening. A band where the network loses to the better classical method is produced by
that method instead, so the output is never worse than a classical method on the scene's own evidence."""
from dataclasses import dataclass

import numpy as np
import torch

from . import pansharpen
from .bands import GROUPS
from .degrade import wald_pair
from .evaluation import estimates
from .errors import tr
from .raster import invalid, read_window
from ..models.dsen2 import bicubic
from ..models.scene import scene_stats

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

    def report(self):
        if self.note:
            return "%dx: %s" % (self.scale, self.note)
        return "%dx: " % self.scale + "; ".join(
            "%s %s (%s)" % (band, NAMES[use], ", ".join("%s %.2f dB" % (NAMES[m], self.sre[m][i]) for m in self.sre))
            for i, (band, use) in enumerate(zip(GROUPS[self.scale], self.use)))

    def replace(self, sharp, hi, low, stats):
        """The network's output (N, bands, H, W) with the bands the check gave to a classical method computed by it
        (`stats`: the scene's, for HPF's pan bands)."""
        if set(self.use) == {"model"}:
            return sharp
        methods = {"hpf": lambda: pansharpen.hpf(hi, low, stats, self.scale),
                   "bicubic": lambda: bicubic(low, self.scale)}
        classical = {m: methods[m]() for m in set(self.use) - {"model"}}
        return torch.stack([sharp[:, i] if m == "model" else classical[m][:, i].to(sharp.dtype)
                            for i, m in enumerate(self.use)], 1)


def wald_windows(datasets, shifts, grid, scale):
    """Wald pairs (core.degrade) of up to 16 windows spread over the area of `grid` (the inputs `datasets` with their
    offsets `shifts`), windows with no-data left out, and their SceneStats; or ([], None, why not)."""
    factors = (1, 2, 6) if scale == 6 else (1, 2)
    side = min(SIDE[scale], grid.rows - grid.rows % CELL[scale], grid.cols - grid.cols % CELL[scale])
    if side < MIN_CELLS * CELL[scale]:
        return [], None, tr("the area is too small to check the network (it needs %d x %d pixels at 10 m): the "
                            "network is used") % ((MIN_CELLS * CELL[scale],) * 2)
    pairs = []
    for row in _starts(grid.rows, side, grid.block):
        for col in _starts(grid.cols, side, grid.block):
            scene = {}
            for f in factors:
                data = read_window(datasets[f], grid, f, (row, col, side, side), len(GROUPS[f]))
                if invalid(datasets[f], data).any():
                    break
                scene[f] = data + shifts[f]
            else:
                pairs.append(wald_pair(scene, scale))
    if not pairs:
        return [], None, tr("every checked window holds no-data pixels: the network is used")
    keys = ("hi", "mid", "lo")[: len(factors)]
    return pairs, scene_stats([[p[k] for k in keys] for p in pairs], scale), ""


def self_check(net, pairs, stats, note, precision):
    """Check `net` (on its device) on the Wald pairs of `wald_windows` (with their stats; `note` why there are none)."""
    bands = GROUPS[net.scale]
    if not pairs:
        return Check(net.scale, {}, ("model",) * len(bands), note)
    errors = {m: np.zeros(len(bands)) for m in NAMES}
    truth, count = np.zeros(len(bands)), 0
    for pair in pairs:
        target = pair["target"].astype(np.float64)
        for m, guess in estimates(net, pair, precision=precision, stats=stats).items():
            errors[m] += ((guess - target) ** 2).sum((1, 2))
        truth += target.sum((1, 2))
        count += target[0].size
    sre = {m: (10 * np.log10((truth / count) ** 2 / np.maximum(e / count, 1e-12))).tolist()
           for m, e in errors.items()}
    use = tuple("model" if sre["model"][i] >= max(sre["hpf"][i], sre["bicubic"][i])
                else max(("hpf", "bicubic"), key=lambda m: sre[m][i]) for i in range(len(bands)))
    return Check(net.scale, sre, use)


def _starts(size, side, step):
    """Up to WINDOWS window starts spread over `size`, on whole coarse pixels (`step`)."""
    return sorted({min(size - side, round(i * (size - side) / max(WINDOWS - 1, 1))) // step * step
                   for i in range(WINDOWS)})
