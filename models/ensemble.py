"""Self-ensemble: a network's output averaged over the eight flips and rotations of its input (the "+" models of EDSR,
Lim et al. 2017). The networks learned with flips and rotations, so each of the eight is an estimate as good as the
others, and their errors are partly independent: the mean scores 0.09 to 0.27 dB SRE better on every check scene
(docs/benchmarks.md; 0.4.4 networks, 2026-11-24), for eight times the network's time. Their spread is what
bench/confidence.py ranks errors by.
"""
import numpy as np

from .network import Network

#: (mirror the columns first, quarter turns) of the eight symmetries of a square
TURNS = tuple((flip, k) for flip in (False, True) for k in range(4))


def turn(array, flip, k):
    """array (..., rows, cols) mirrored left-right if `flip`, then turned k quarter turns."""
    return np.rot90(array[..., ::-1] if flip else array, k, (-2, -1))


def turn_back(array, flip, k):
    """The inverse of `turn`."""
    array = np.rot90(array, -k, (-2, -1))
    return array[..., ::-1] if flip else array


class FlipEnsemble(Network):
    """A models.network.Network whose output is `net`'s averaged over the eight flips and rotations of its input. The
    blocks' grids nest whatever the symmetry (blocks hold whole coarse pixels), the margin is `net`'s, and the
    confidence calibration is `net`'s (fitted on the single network's errors, which are larger: cautious)."""

    def __init__(self, net):
        self.net = net
        for name in ("bands", "inputs", "scale", "per_10m", "margin", "version", "calibration", "check_shift"):
            setattr(self, name, getattr(net, name))

    def __getattr__(self, name):
        """What else the wrapped network has (a card's `card`, which its self-check reads)."""
        if name == "net":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.net, name)

    def outputs(self, arrays, stats=None):
        """Each symmetry's output, turned back, one after the other."""
        for flip, k in TURNS:
            turned = {f: np.ascontiguousarray(turn(a, flip, k)) for f, a in arrays.items()}
            yield turn_back(self.net(turned, stats), flip, k)

    def __call__(self, arrays, stats=None):
        total = None
        for out in self.outputs(arrays, stats):
            total = out.astype(np.float64) if total is None else total + out
        return (total / len(TURNS)).astype(np.float32)
