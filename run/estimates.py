"""The Wald protocol's estimates, shared by the self-check, the evaluation and the confidence map's scene correction:
a scene's bands degraded by the model's scale and restored by the model, by bicubic upsampling and (for the plugin's
networks) by HPF pan-sharpening."""
import numpy as np

from ..core import consistency, pansharpen
from ..core.bands import GROUPS, pixel_factor
from ..core.degrade import block_mean, degrade
from ..core.errors import InputError, tr
from ..core.resample import bicubic
from ..core.scene import pan_bands, scene_stats


def estimates(net, pair, consistent=False, stats=None):
    """The target bands of one whole Wald pair (float32 arrays) as estimated by `net` (a models.network.Network of
    the plugin's), by bicubic upsampling and by HPF pan-sharpening: {method: array}.

    consistent: enforce that the model's output averages to the measured coarse pixels. stats: the SceneStats to
    use (default: the pair's own; the self-check passes those of all its windows).
    """
    arrays = {f: pair[k][None] for f, k in zip(net.inputs, ("hi", "mid", "lo"))}
    if stats is None:
        stats = scene_stats([[a[0] for a in arrays.values()]], net.scale)
    low = arrays[net.scale]  # the measured bands the network sharpens
    sharp = net(arrays, stats)
    if consistent:
        sharp = consistency.enforce(sharp, low, net.scale)
    made = {"model": sharp, "bicubic": bicubic(low, net.scale), "hpf": pansharpen.hpf(arrays[1], low, stats, net.scale)}
    return {m: e[0] for m, e in made.items()}


def own_scale_estimates(net, scene):
    """The target bands of one whole scene ({1, 2, 6: float32 (bands, rows, cols)}, cut to whole cells of the
    network's coarsest input) at 10 m, as the network, bicubic upsampling and HPF give them at the scene's own scale
    (no degradation): ({method: (bands, H, W)}, the measured bands, their pan bands at 10 m (bands, H, W))."""
    stats = scene_stats([[scene[f] for f in net.inputs]], net.scale)
    made = estimates(net, dict(zip(("hi", "mid", "lo"), (scene[f] for f in net.inputs))), stats=stats)
    return made, scene[net.scale], pan_bands(stats, scene[1][None].astype(np.float32))[0]


def estimated(net, pairs, stats):
    """Wald pairs with their `estimates` ({method: (bands, h, w)}) under the SceneStats `stats`: [(pair, estimates)],
    what the self-check and the confidence map's scene correction both score, computed once for both."""
    return [(pair, estimates(net, pair, stats=stats)) for pair in pairs]


def card_estimates(net, scene, check_size=False):
    """The bands of a card's model (models.cards.CardNetwork) on one scene ({1: 10 m, 2: 20 m} arrays) by the Wald
    protocol: every input band degraded by the card's factor, the model's output compared with each measured band
    at its own pixel size (20 m bands that the model gives at 10 m: their 2 x 2 means), beside bicubic upsampling of
    the degraded band. {pixel size in 10 m pixels: (bands, truth, {"model", "bicubic": estimate})}; the scene is
    cut to whole degraded 20 m pixels (check_size: InputError where fewer than 4 of them a side remain)."""
    card, step = net.card, 2 * net.card.factor
    rows, cols = (n - n % step for n in scene[1].shape[1:])
    if check_size and min(rows, cols) < 4 * step:
        raise InputError(tr("the area is too small to evaluate the model of %s: choose a larger EXTENT") % card.name)
    scene = {f: scene[f][:, : rows // f, : cols // f] for f in (1, 2)}
    low = {f: degrade(scene[f], card.factor) for f in (1, 2)}
    out = net({f: a[None] for f, a in low.items()})[0]  # on the card's input grid, as measured
    found = {}
    for f in (1, 2):
        picks = [(i, GROUPS[f].index(b)) for i, b in enumerate(card.bands) if pixel_factor(b) == f]
        if picks:
            found[f] = ([card.bands[i] for i, _ in picks], scene[f][[j for _, j in picks]],
                        {"model": np.stack([block_mean(out[i], f // card.grid) for i, _ in picks]),
                         "bicubic": bicubic(low[f][[j for _, j in picks]], card.factor)})
    return found
