"""Network definitions, trained weights and their model cards.

A model is a pair of weight files ``<name>_2x.pt`` (20 m bands) and ``<name>_6x.pt`` (60 m bands).
Each file holds the network's config, its state dict and the training record, so that training can
resume from it, the calibration of its confidence map (core.confidence) and the scale shift of its self-check
(core.fits.ScaleShift) when it has them.
"""
import os

from ..core.confidence import Calibration
from ..core.devices import importable
from ..core.errors import InputError, tr
from ..core.fits import ScaleShift

MODELS_DIR = os.path.dirname(os.path.abspath(__file__))
#: the model shipped with the plugin: what runs where no model is named, whatever else is installed
DEFAULT = "dsen2_oscd"
#: the multi-frame network's weights (models.multiframe), <name>.pt in a models folder
MULTIFRAME = "multiframe_rgbn"


def available_models(folders=(MODELS_DIR,)):
    """Names of the models that have both a 2x and a 6x weight file, sorted."""
    names = set()
    for folder in folders:
        if os.path.isdir(folder):
            names.update(f[: -len("_2x.pt")] for f in os.listdir(folder) if f.endswith("_2x.pt"))
    return sorted(n for n in names if any(os.path.exists(weights_path(n, 6, (f,))) for f in folders))


def resolve(name, folders=(MODELS_DIR,)):
    """The installed model called `name` (None or "": the shipped DEFAULT); InputError naming the installed models
    where there is none of that name. Models are chosen by name only, so that installing or removing another model
    never changes which one a script or a saved graphical model runs."""
    installed = available_models(folders)
    name = name or DEFAULT
    if name in installed or any(os.path.exists(weights_path(name, s, folders)) for s in (2, 6)):
        return name  # one of its weight files missing: loading the network names that file
    if not installed:
        raise InputError(tr("no trained models found in %s: reinstall the plugin") % ", ".join(folders))
    raise InputError(tr("no model named %r is installed; the installed models are: %s") % (name, ", ".join(installed)))


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


def load_network(path, device="cpu", backend="torch", precision="float32", threads=0, log=None):
    """The network stored in a weight file, as a models.network.Network on `device` with its convolutions in
    `precision` (PyTorch; float32 on the CPU by NNPACK's Winograd convolutions where it works, models.winograd);
    backend "onnxruntime": the network exported beside it (`<weights>.onnx`, models.export) in ONNX Runtime
    (models.backends; PyTorch is not needed where that file is there and current: `onnx_network`)."""
    if backend == "onnxruntime":
        if device != "cpu":
            raise IOError(tr("the onnxruntime backend runs on the CPU: choose DEVICE cpu or the torch backend"))
        return onnx_network(path, threads, log)
    module, ckpt = load_module(path)
    steps = ckpt.get("record", {}).get("steps")
    return torch_network(module, version_text(ckpt), Calibration.stored(ckpt.get("confidence"), steps),
                         ScaleShift.stored(ckpt.get("self_check"), steps), device, precision)


def torch_network(module, version, calibration, check_shift, device="cpu", precision="float32"):
    """A PyTorch module of the plugin's (models.dsen2.DSen2) as a run computes it: a models.backends.TorchNetwork on
    `device` in `precision`, on the CPU in float32 by NNPACK's Winograd convolutions where they work
    (models.winograd); its version text, confidence calibration and self-check shift as given."""
    from . import winograd
    from .backends import TorchNetwork

    if device == "cpu" and precision == "float32" and winograd.available():
        module = winograd.use_winograd(module)
    return TorchNetwork(module.to(device), version, calibration, check_shift, device, precision)


def onnx_network(path, threads=0, log=None):
    """The network of the weight file `path` in ONNX Runtime, from the file exported beside it (`<weights>.onnx`).
    Where that file is missing, or was exported before the network was trained further, and PyTorch is installed, it
    is exported now, once (a fine-tuned or a user's model runs in ONNX Runtime with no manual step; log(message) says
    so); IOError saying what to do otherwise."""
    from .backends import OnnxNetwork

    onnx = path[: -len(".pt")] + ".onnx"
    torch = os.path.exists(path) and importable("torch")
    steps = load_checkpoint(path)["record"]["steps"] if torch else None
    if os.path.exists(onnx):
        net = OnnxNetwork(onnx, threads)
        if steps is None or net.steps == steps:
            return net
    if not (torch and importable("onnx")):
        raise IOError(tr("%s has no current ONNX file for ONNX Runtime (%s), and it can only be made where PyTorch is "
                         "installed: run 'Install PyTorch or ONNX Runtime for this plugin' with PyTorch (or pip "
                         "install torch onnx) and run once more, or choose the torch backend") % (path, onnx))
    from .export import export

    if log:
        log(tr("exporting %s to ONNX for ONNX Runtime (once; the file is kept beside it)") % path)
    try:
        export(path)
    except OSError as err:  # e.g. a models folder the user cannot write to
        raise IOError(tr("cannot write the ONNX file of %s (%s): copy the model to your models folder, or choose the "
                         "torch backend") % (path, err)) from err
    return OnnxNetwork(onnx, threads)


def load_multiframe(folders=(MODELS_DIR,), device="cpu", precision="float32"):
    """The multi-frame network (models.multiframe, weights MULTIFRAME.pt in the first of `folders` that has them) as a
    models.backends.MultiFrameTorch."""
    from .backends import MultiFrameTorch
    from .multiframe import MultiFrameNet

    path = next((p for p in (os.path.join(f, MULTIFRAME + ".pt") for f in folders) if os.path.exists(p)),
                os.path.join(folders[0], MULTIFRAME + ".pt"))
    ckpt = load_checkpoint(path)
    try:
        module = MultiFrameNet(**ckpt["config"])
        module.load_state_dict(ckpt["state_dict"])
    except (KeyError, TypeError, RuntimeError) as err:
        raise IOError(tr("cannot read the multi-frame network %s: not a network of this plugin version (%s)")
                      % (path, err)) from err
    return MultiFrameTorch(module.eval().to(device), version_text(ckpt), device, precision)


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
