"""Float32 inference on the CPU with NNPACK's Winograd convolutions (bundled with PyTorch's CPU builds).

A 3x3 convolution by the Winograd transform (F(6x6, 3x3): 64 multiplications for 36 outputs of a channel pair,
against 324) costs far fewer multiplications than a direct one, for transforms in and out: on a 2-core AVX2 CPU the
plugin's networks run about 1.5 times as fast as with oneDNN's float32 convolutions, within 0.1 DN of them
(docs/benchmarks.md; 2026-11-24). PyTorch itself picks NNPACK only for batches of 16 and more, so the networks' 3x3
convolutions call it directly. It is for inference only (no gradients) and float32 only: bfloat16, where the CPU
computes it natively, stays with oneDNN, which is faster there (a full tile on a 2-core CPU with AMX: 141 s in
bfloat16, 358 s in float32 by Winograd; 0.4.4 networks, 2026-12-06).

NNPACK runs on its own thread pool, sized by PyTorch's thread count when it is first used in the process. Its
threads and PyTorch's OpenMP threads take turns on the cores; OpenMP's threads spin for a while after each
operation, which starves NNPACK's, so `core.devices` asks OpenMP to wait passively (OMP_WAIT_POLICY) where
PyTorch was not yet imported.
"""
import functools

import torch
from torch import nn
from torch.nn import functional as F


class WinogradConv2d(nn.Conv2d):
    """A 3x3, stride 1, float32 nn.Conv2d computed by NNPACK when no gradient is needed; otherwise, or where NNPACK
    fails (it may, e.g. for want of memory for its workspace), as before."""

    def forward(self, x):
        if torch.is_grad_enabled() or x.dtype != torch.float32 or x.device.type != "cpu":
            return super().forward(x)
        try:
            return _nnpack(x, self.weight, self.bias, self.padding)
        except RuntimeError:
            return super().forward(x)


def _nnpack(x, weight, bias, padding):
    return torch._nnpack_spatial_convolution(x.contiguous(), weight, bias, list(padding) * 2)


@functools.lru_cache(maxsize=None)
def available():
    """Whether this PyTorch build has NNPACK (a private interface of PyTorch's) and it computes a small convolution
    as PyTorch's own does on this CPU; checked once (the first call also initialises NNPACK)."""
    try:
        if not torch._nnpack_available():
            return False
        x, weight, bias = torch.rand(1, 3, 11, 13), torch.rand(4, 3, 3, 3) - 0.5, torch.rand(4)
        with torch.no_grad():
            return bool(torch.allclose(_nnpack(x, weight, bias, (1, 1)), F.conv2d(x, weight, bias, padding=1),
                                       atol=1e-4))
    except (AttributeError, RuntimeError):
        return False


def use_winograd(module):
    """Make every 3x3, stride 1, undilated, ungrouped convolution of `module` a WinogradConv2d (in place; returns it).
    Its weights become contiguous (NNPACK reads them so)."""
    for conv in module.modules():
        if (type(conv) is nn.Conv2d and conv.kernel_size == (3, 3) and conv.stride == (1, 1)
                and conv.dilation == (1, 1) and conv.groups == 1 and conv.padding_mode == "zeros"):
            conv.__class__ = WinogradConv2d
            conv.weight.data = conv.weight.data.contiguous()
    return module
