"""Float32 inference on the CPU with NNPACK's Winograd convolutions (bundled with PyTorch's CPU builds).

A 3x3 convolution by the Winograd transform takes about half the multiplications of a direct one: on a 2-core AVX2
CPU the plugin's networks run about 1.5 times as fast as with oneDNN's float32 convolutions, within 0.1 DN of them
(docs/benchmarks.md, session 14). PyTorch itself picks NNPACK only for batches of 16 and more, so the networks' 3x3
convolutions call it directly. It is for inference only (no gradients) and float32 only (bfloat16, where the CPU
computes it natively, stays faster).

NNPACK runs on its own thread pool, sized by PyTorch's thread count when it is first used in the process. Its
threads and PyTorch's OpenMP threads take turns on the cores; OpenMP's threads spin for a while after each
operation, which starves NNPACK's, so `core.devices` asks OpenMP to wait passively (OMP_WAIT_POLICY) where
PyTorch was not yet imported.
"""
import torch
from torch import nn


class WinogradConv2d(nn.Conv2d):
    """A 3x3, stride 1, float32 nn.Conv2d computed by NNPACK when no gradient is needed; otherwise as before."""

    def forward(self, x):
        if torch.is_grad_enabled() or x.dtype != torch.float32 or x.device.type != "cpu":
            return super().forward(x)
        return torch._nnpack_spatial_convolution(x.contiguous(), self.weight, self.bias, list(self.padding) * 2)


def available():
    """Whether this PyTorch build has NNPACK and it works on this CPU (the first call also initialises it)."""
    return torch._nnpack_available()


def use_winograd(module):
    """Make every 3x3, stride 1, undilated, ungrouped convolution of `module` a WinogradConv2d (in place; returns it).
    Its weights become contiguous (NNPACK reads them so)."""
    for conv in module.modules():
        if (type(conv) is nn.Conv2d and conv.kernel_size == (3, 3) and conv.stride == (1, 1)
                and conv.dilation == (1, 1) and conv.groups == 1 and conv.padding_mode == "zeros"):
            conv.__class__ = WinogradConv2d
            conv.weight.data = conv.weight.data.contiguous()
    return module
