"""A multi-frame super-resolution network of the HighRes-Net family (Deudon et al. 2020, "HighRes-net: recursive
fusion for multi-frame super-resolution of satellite imagery"): several acquisitions of one place (frames) give the
reference acquisition at twice its resolution.

Every frame is encoded together with the reference, its mask of usable pixels and its measured shift against the
reference (core.registration: two constant planes, in pixels; the network need not find the sub-pixel shift itself,
only use it) by one shared encoder; the codes
are fused by their mean over the frames, weighted by the masks (so the output depends neither on the order nor on
the number of frames, and a clouded pixel of a frame never enters it); a decoder turns the fused code into detail
at twice the resolution (pixel shuffle), added to the reference upsampled bicubically. The reference is frame 0 and
is always among the frames, so one frame is single-image super-resolution.

As in models.dsen2, every frame's bands are standardised by that frame's own mean and standard deviation over the
scene (`stats`), and the detail is scaled back by the reference's: a frame brighter or darker than the reference
(season, sun, L1C against L2A) is the same to the network, and the output follows the reference's gain and offset.
"""
import torch
from torch import nn

from .dsen2 import ResBlock, bicubic


class MultiFrameNet(nn.Module):
    """frames (N, T, bands, H, W) DN, frame 0 the reference; masks (N, T, 1, H, W), 1 where a frame's pixel may be
    used; stats (N, T, 2, bands): each frame's mean and standard deviation over the scene; shifts (N, T, 2): where
    each frame's content lies against the reference's, in pixels (rows, cols; 0 for the reference). Returns (N, bands,
    scale * H, scale * W) DN on the reference's grid."""

    def __init__(self, bands=4, width=48, depth=(3, 4), scale=2):
        super().__init__()
        self.config = dict(bands=bands, width=width, depth=list(depth), scale=scale)
        self.scale = scale
        self.encode = nn.Sequential(nn.Conv2d(2 * bands + 3, width, 3, padding=1), nn.ReLU(inplace=True),
                                    *[ResBlock(width) for _ in range(depth[0])])
        self.decode = nn.Sequential(*[ResBlock(width) for _ in range(depth[1])], nn.ReLU(inplace=True),
                                    nn.Conv2d(width, bands * scale * scale, 3, padding=1), nn.PixelShuffle(scale))

    @property
    def margin(self):
        """Input pixels of context a block needs on each side so that blocks leave no seams."""
        return 2 + 2 * sum(self.config["depth"]) + 2  # its 3x3 convolutions, and bicubic's two pixels

    def forward(self, frames, masks, stats, shifts):
        n, t = frames.shape[:2]
        with torch.autocast(frames.device.type, enabled=False):
            mean, std = stats[:, :, 0, :, None, None], stats[:, :, 1, :, None, None]
            z = (frames - mean) / std * masks  # a frame's unusable pixels are 0 and flagged by its mask
            where = shifts[..., None, None].expand(-1, -1, -1, *frames.shape[-2:])
            pairs = torch.cat([z, z[:, :1].expand_as(z), masks, where], 2).flatten(0, 1)
        code = self.encode(pairs).unflatten(0, (n, t)).float()
        with torch.autocast(frames.device.type, enabled=False):
            weight = masks / masks.sum(1, keepdim=True).clamp(min=1)
            fused = (code * weight).sum(1)
        detail = self.decode(fused).float()
        with torch.autocast(frames.device.type, enabled=False):
            return bicubic(frames[:, 0], self.scale) + std[:, 0] * detail
