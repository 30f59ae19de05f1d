"""DSen2-style residual super-resolution network, run on the 20 m grid, on scene-standardised inputs.

Lanaras et al. (2018): upsample the coarse bands, concatenate them with the fine ones, and predict a
residual added to the upsampled bands (ResBlocks with residual scaling 0.1, no batch norm). Here the
network runs on the 20 m grid: the 10 m bands are folded in by space-to-depth (pixel unshuffle) and the
residual is unfolded by pixel shuffle, which gives 4x fewer positions than running on the 10 m grid.

Every input band is standardised by its mean and standard deviation over the scene, and the predicted
detail of each target band is scaled back by that band's standard deviation; the network also sees, for
every target band, a pan band fitted to it from the 10 m bands over the scene (`core.scene`). So if a
scene's bands are changed by any gain and offset per band (brightness, season, sun angle, an atmospheric
path term: L1C against L2A, roughly), what the network sees does not change, and the output changes by the
same gain and offset: radiometric robustness by design rather than by augmentation.
"""
import torch
from torch import nn
from torch.nn import functional as F

from ..core import pansharpen
from ..core.degrade import gaussian_taps
from ..core.scene import SceneStats, pan_bands, scene_stats


class ResBlock(nn.Module):
    """conv-ReLU-conv with the block output scaled before it is added back."""

    def __init__(self, width, res_scale=0.1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(width, width, 3, padding=1)
        )
        self.res_scale = res_scale

    def forward(self, x):
        return torch.add(x, self.body(x), alpha=self.res_scale)  # one pass over memory, not two


class DSen2(nn.Module):
    """Super-resolves either the 20 m bands (scale 2) or the 60 m bands (scale 6) to the 10 m grid.

    Inputs are DN tensors: ``hi`` (N, 4, H, W) 10 m bands, ``mid`` (N, 6, H/2, W/2) 20 m bands and, for
    scale 6, ``lo`` (N, 2, H/6, W/6) 60 m bands; ``stats`` the scene's `SceneStats` (default: those of the
    given tensors, right for a whole scene; a tiled run passes the scene's). Returns (N, bands, H, W) DN for
    the target bands.

    base: what the predicted detail is added to: "bicubic" (DSen2's), or "hpf" (HPF pan-sharpening, the
    classical method the network is scored against, so that the untrained network starts as HPF).
    """

    def __init__(self, scale=2, n_hi=4, n_mid=6, n_lo=2, width=64, depth=4, base="bicubic"):
        super().__init__()
        if scale not in (2, 6) or base not in ("bicubic", "hpf"):
            raise ValueError("scale must be 2 or 6, base 'bicubic' or 'hpf'")
        self.scale = scale
        self.config = dict(scale=scale, n_hi=n_hi, n_mid=n_mid, n_lo=n_lo, width=width, depth=depth)
        self.groups = (n_hi, n_mid) + ((n_lo,) if scale == 6 else ())
        self.n_out = self.groups[-1]
        n_in = 4 * n_hi + n_mid + (n_lo if scale == 6 else 0) + 4 * self.n_out  # the last: the pan bands
        self.head = nn.Conv2d(n_in, width, 3, padding=1)
        self.body = nn.Sequential(*[ResBlock(width) for _ in range(depth)], nn.ReLU(inplace=True))
        self.tail = nn.Conv2d(width, 4 * self.n_out, 3, padding=1)
        if base != "bicubic":  # (weight files of networks on a bicubic base stay as they were)
            self.config["base"] = base
            nn.init.zeros_(self.tail.weight)  # untrained, the network is HPF
            nn.init.zeros_(self.tail.bias)

    @property
    def device(self):
        return next(self.parameters()).device

    @property
    def margin(self):
        """10 m pixels of context a tile needs on each side so tiling leaves no seams."""
        convs = 2 * self.config["depth"] + 2  # each 3x3 conv on the 20 m grid reaches 2 px at 10 m
        bicubic = 12 if self.scale == 6 else 4  # bicubic reaches 2 coarse pixels
        return max(2 * convs + bicubic, pansharpen.margin(self.scale) if "base" in self.config else 0)

    def forward(self, hi, mid, lo=None, stats=None):
        """Under an autocast (bfloat16) only the convolutions change precision: the standardisation, the
        base and the sum stay float32 (bfloat16 would round DN of 2000-4000 to steps of 16)."""
        inputs = (hi, mid, lo)[: len(self.groups)]
        if stats is None:
            stats = SceneStats.stack([scene_stats([[t.float().cpu().numpy() for t in x]], self.scale)
                                      for x in zip(*inputs)]).tensors(hi.device)
        with torch.autocast(hi.device.type, enabled=False):
            mean, std = stats.mean[..., None, None], stats.std[..., None, None]
            z = [(x - m) / s for x, m, s in zip(inputs, mean.split(self.groups, 1), std.split(self.groups, 1))]
            pan = pan_bands(stats, hi)
            x = [F.pixel_unshuffle(z[0], 2), z[1]]
            if self.scale == 6:
                x.append(F.interpolate(z[2], scale_factor=3, mode="bicubic", align_corners=False))
            x.append(F.pixel_unshuffle((pan - mean[:, -self.n_out :]) / std[:, -self.n_out :], 2))
            x = torch.cat(x, 1)
        detail = F.pixel_shuffle(self.tail(self.body(self.head(x))), 2).float()
        with torch.autocast(hi.device.type, enabled=False):
            base = bicubic(inputs[-1], self.scale)
            if "base" in self.config:
                base = base + pan - bicubic(wald(pan, self.scale), self.scale)  # HPF: core.pansharpen
            return base + std[:, -self.n_out :] * detail


def bicubic(x, scale):
    """Bicubic upsampling by an integer factor on pixel-area grids (the baseline the network improves)."""
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)


def wald(x, scale):
    """core.degrade.degrade in PyTorch, exportable to ONNX for any size: Gaussian blur then block mean. Its edges
    repeat the edge pixel, as core.degrade's mirror does for the 3 taps of the 6x blur (wider blurs differ within
    a block's margin only)."""
    taps = gaussian_taps(1.0 / scale)
    kernel = torch.tensor(taps[:, None] * taps[None, :], dtype=x.dtype, device=x.device)[None, None]
    planes = F.pad(x.flatten(0, 1)[:, None], (len(taps) // 2,) * 4, mode="replicate")  # every band alike
    y = F.avg_pool2d(F.conv2d(planes, kernel), scale)
    return y.reshape(x.shape[0], x.shape[1], y.shape[2], y.shape[3])
