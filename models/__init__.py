"""Network definitions, trained weights and their model cards.

A model is a pair of weight files ``<name>_2x.pt`` (20 m bands) and ``<name>_6x.pt`` (60 m bands).
Each file holds the network's config, its state dict and the training record, so that training can
resume from it, the calibration of its confidence map (core.confidence) and the scale shift of its self-check
(core.selfcheck) when it has them.
"""
import os

from ..core.errors import tr

MODELS_DIR = os.path.dirname(os.path.abspath(__file__))


def available_models(folders=(MODELS_DIR,)):
    """Names of the models that have both a 2x and a 6x weight file, sorted."""
    names = set()
    for folder in folders:
        if os.path.isdir(folder):
            names.update(f[: -len("_2x.pt")] for f in os.listdir(folder) if f.endswith("_2x.pt"))
    return sorted(n for n in names if any(os.path.exists(weights_path(n, 6, (f,))) for f in folders))


def weights_path(name, scale, folders=(MODELS_DIR,)):
    """Path of a model's weight file for scale 2 or 6 (the first folder that has it)."""
    paths = [os.path.join(f, "%s_%dx.pt" % (name, scale)) for f in folders]
    return next((p for p in paths if os.path.exists(p)), paths[0])


def load_checkpoint(path):
    """Read a weight file; raises IOError naming the file if it is missing or unreadable."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # missing, truncated, not a checkpoint: all mean the same to the user
        raise IOError(tr("cannot read model weights %s: %s") % (path, str(err).splitlines()[0])) from err


def save_checkpoint(ckpt, path):
    """Write a weight file atomically (a killed run leaves the old file, and a .tmp beside it at most)."""
    import torch

    torch.save(ckpt, path + ".tmp")
    os.replace(path + ".tmp", path)


def load_network(path, device="cpu", backend="torch", precision="float32", threads=0):
    """The network stored in a weight file, as a models.network.Network on `device` with its convolutions in
    `precision` (PyTorch; float32 on the CPU by NNPACK's Winograd convolutions where it works, models.winograd);
    backend "onnxruntime": the network exported beside it (`<weights>.onnx`, models.export) in ONNX Runtime
    (models.backends; PyTorch is not needed)."""
    from .backends import OnnxNetwork, TorchNetwork
    from ..core.confidence import Calibration
    from ..core.selfcheck import ScaleShift
    from ..core.devices import importable

    if backend == "onnxruntime":
        if device != "cpu":
            raise IOError(tr("the onnxruntime backend runs on the CPU: choose DEVICE cpu or the torch backend"))
        net = OnnxNetwork(path[: -len(".pt")] + ".onnx", threads)
        if os.path.exists(path) and importable("torch") and load_checkpoint(path)["record"]["steps"] != net.steps:
            raise IOError(tr("the ONNX file of %s was exported before the network was trained further: export it "
                             "again (make onnx)") % path)
        return net
    from . import winograd

    module, ckpt = load_module(path)
    if device == "cpu" and precision == "float32" and winograd.available():
        module = winograd.use_winograd(module)
    steps = ckpt.get("record", {}).get("steps")
    return TorchNetwork(module.to(device), version_text(ckpt), Calibration.stored(ckpt.get("confidence"), steps),
                        ScaleShift.stored(ckpt.get("self_check"), steps), device, precision)


def load_module(path):
    """(the PyTorch module of a weight file in eval mode, the checkpoint)."""
    import torch

    from .dsen2 import DSen2

    ckpt = load_checkpoint(path)
    try:
        module = DSen2(**ckpt["config"])
        module.load_state_dict(ckpt["state_dict"])
    except (KeyError, TypeError, RuntimeError) as err:
        raise IOError(tr("cannot read model weights %s: not a network of this plugin version (weights made before "
                         "0.2 lack the scene standardisation and must be trained again) (%s)") % (path, err)) from err
    # channels-last weights: the same result, the convolutions about 10-25 % faster on the CPU (docs/benchmarks.md)
    return module.eval().to(memory_format=torch.channels_last), ckpt


def version_text(ckpt):
    """What the output's metadata say of a checkpoint's network: its training steps and when it was last trained."""
    record = ckpt.get("record", {})
    return "%d steps, last trained %s" % (record.get("steps", 0), (record.get("runs") or [{}])[-1].get("date"))
