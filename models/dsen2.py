"""DSen2-style residual super-resolution network, run on the 20 m grid.

Lanaras et al. (2018): upsample the coarse bands, concatenate them with the fine ones, and predict a
residual added to the upsampled bands (ResBlocks with residual scaling 0.1, no batch norm). Here the
network runs on the 20 m grid: the 10 m bands are folded in by space-to-depth (pixel unshuffle) and the
residual is unfolded by pixel shuffle, which gives 4x fewer positions than running on the 10 m grid.
"""
import torch
from torch import nn
from torch.nn import functional as F

#: reflectance scale: DN are divided by this before the network
SCALE_DN = 2000.0


class ResBlock(nn.Module):
    """conv-ReLU-conv with the block output scaled before it is added back."""

    def __init__(self, width, res_scale=0.1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(width, width, 3, padding=1)
        )
        self.res_scale = res_scale

    def forward(self, x):
        return x + self.res_scale * self.body(x)


class DSen2(nn.Module):
    """Super-resolves either the 20 m bands (scale 2) or the 60 m bands (scale 6) to the 10 m grid.

    Inputs are DN tensors: ``hi`` (N, 4, H, W) 10 m bands, ``mid`` (N, 6, H/2, W/2) 20 m bands and, for
    scale 6, ``lo`` (N, 2, H/6, W/6) 60 m bands. Returns (N, bands, H, W) DN for the target bands.
    """

    def __init__(self, scale=2, n_hi=4, n_mid=6, n_lo=2, width=64, depth=4):
        super().__init__()
        if scale not in (2, 6):
            raise ValueError("scale must be 2 or 6")
        self.scale = scale
        self.config = dict(scale=scale, n_hi=n_hi, n_mid=n_mid, n_lo=n_lo, width=width, depth=depth)
        n_in = 4 * n_hi + n_mid + (n_lo if scale == 6 else 0)
        self.n_out = n_mid if scale == 2 else n_lo
        self.head = nn.Conv2d(n_in, width, 3, padding=1)
        self.body = nn.Sequential(*[ResBlock(width) for _ in range(depth)], nn.ReLU(inplace=True))
        self.tail = nn.Conv2d(width, 4 * self.n_out, 3, padding=1)

    @property
    def margin(self):
        """10 m pixels of context a tile needs on each side so tiling leaves no seams."""
        convs = 2 * self.config["depth"] + 2  # each 3x3 conv on the 20 m grid reaches 2 px at 10 m
        bicubic = 12 if self.scale == 6 else 4  # bicubic reaches 2 coarse pixels
        return 2 * convs + bicubic

    def forward(self, hi, mid, lo=None):
        """Under an autocast (bfloat16) only the convolutions change precision: the input scaling, the
        bicubic base and the sum stay float32 (bfloat16 would round DN of 2000-4000 to steps of 16)."""
        with torch.autocast(hi.device.type, enabled=False):
            x = [F.pixel_unshuffle(hi / SCALE_DN, 2), mid / SCALE_DN]
            if self.scale == 6:
                x.append(F.interpolate(lo / SCALE_DN, scale_factor=3, mode="bicubic", align_corners=False))
            x = torch.cat(x, 1)
        residual = F.pixel_shuffle(self.tail(self.body(self.head(x))), 2).float()
        with torch.autocast(hi.device.type, enabled=False):
            return bicubic(mid if self.scale == 2 else lo, self.scale) + SCALE_DN * residual


def bicubic(x, scale):
    """Bicubic upsampling by an integer factor on pixel-area grids (the baseline the network improves)."""
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)
