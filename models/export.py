"""Export a network to ONNX, so that it also runs in ONNX Runtime (models.backends).

    python -m s2sr.models.export models/dsen2_oscd_2x.pt models/dsen2_oscd_6x.pt      (make onnx)

writes <weights>.onnx beside each weight file: inputs `hi`, `mid` (and `lo` for 6x) in DN and the scene
statistics `mean`, `std`, `pan` (core.scene.SceneStats), output `output` in DN, any block size; the file's
metadata carry what the plugin needs without PyTorch: the network's config, margin, version text, training
steps, the calibration of its confidence map and the scale shift of its self-check. A network trained further
must be exported again (the plugin compares the steps with the weight file's where both are there).
"""
import json
import os
import sys
import warnings

import torch
from torch import nn

from . import load_module, version_text
from ..core.scene import SceneStats, scene_stats

OPSET = 17


class WithStats(nn.Module):
    """The network with the scene statistics as plain tensor inputs."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, hi, mid, *rest):
        lo, (mean, std, pan) = (rest[0], rest[1:]) if self.net.scale == 6 else (None, rest)
        return self.net(hi, mid, lo, SceneStats(mean, std, pan))


def export(weights):
    import onnx

    net, ckpt = load_module(weights)
    side = 72  # any multiple of 12: the sizes are dynamic
    inputs = [torch.rand(1, n, side // f, side // f) * 3000 for n, f in zip(net.groups, (1, 2, 6))]
    stats = scene_stats([[t[0].numpy() for t in inputs]], net.scale).tensors()
    names = ["hi", "mid", "lo"][: len(inputs)]
    axes = {name: {2: "rows_%s" % name, 3: "cols_%s" % name} for name in names}
    axes["output"] = {2: "rows_hi", 3: "cols_hi"}
    path, tmp = weights[:-3] + ".onnx", weights[:-3] + ".onnx.tmp"  # renamed into place when whole
    with warnings.catch_warnings():  # the tracer's notes on constants and constant folding: nothing to act on
        warnings.simplefilter("ignore")
        torch.onnx.export(WithStats(net).eval(), tuple(inputs) + tuple(stats), tmp,
                          input_names=names + ["mean", "std", "pan"], output_names=["output"], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)
    model = onnx.load(tmp)
    props = {"config": json.dumps(net.config), "margin": str(net.margin), "version": version_text(ckpt),
             "steps": str(ckpt["record"]["steps"]), "confidence": json.dumps(ckpt.get("confidence")),
             "self_check": json.dumps(ckpt.get("self_check"))}
    onnx.helper.set_model_props(model, props)
    onnx.save(model, tmp)
    os.replace(tmp, path)
    return path


if __name__ == "__main__":
    for weights in sys.argv[1:]:
        print("wrote", export(weights))
