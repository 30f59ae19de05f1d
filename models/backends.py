"""Where the plugin's own networks run (models.network.Network): PyTorch (the weight file, `<name>_<scale>x.pt`) or
ONNX Runtime (the file exported beside it, `<name>_<scale>x.onnx`, models.export; no PyTorch needed)."""
import json
import os

import numpy as np

from .network import Network
from ..core.bands import BANDS_10M, GROUPS
from ..core.confidence import Calibration
from ..core.devices import autocast
from ..core.errors import OutOfMemory, tr
from ..core.fits import ScaleShift


class OwnNetwork(Network):
    """What the plugin's networks share: the bands of their scale, sharpened on the 10 m grid; they need the scene's
    SceneStats."""

    def __init__(self, config, margin, version, calibration, check_shift):
        self.config, self.scale, self.margin, self.version = config, config["scale"], margin, version
        self.calibration, self.check_shift = calibration, check_shift
        self.bands, self.inputs = GROUPS[self.scale], (1, 2, 6) if self.scale == 6 else (1, 2)


class TorchNetwork(OwnNetwork):
    """A models.dsen2.DSen2 in PyTorch on `device`, its convolutions in `precision` ("float32" or "bfloat16")."""

    def __init__(self, module, version="", calibration=None, check_shift=None, device="cpu", precision="float32"):
        super().__init__(module.config, module.margin, version, calibration, check_shift)
        self.module, self.device, self.precision = module, device, precision

    def __call__(self, arrays, stats=None):
        import torch

        tensors = [torch.from_numpy(np.ascontiguousarray(arrays[f], np.float32)).to(self.device) for f in self.inputs]
        try:
            with torch.inference_mode(), autocast(self.device, self.precision):
                out = self.module(*tensors, stats=stats.tensors(self.device))
            return out.float().cpu().numpy()
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            raise OutOfMemory() from None


class OnnxNetwork(OwnNetwork):
    """A network exported by models.export, run by ONNX Runtime on the CPU in float32."""

    def __init__(self, path, threads=0):
        try:
            import onnxruntime
        except ImportError as err:
            raise IOError(tr("ONNX Runtime is not installed: install it (pip install onnxruntime) or choose the "
                             "torch backend")) from err
        if not os.path.exists(path):
            raise IOError(tr("no ONNX file %s: export the network first (make onnx, or python -m "
                             "s2sr.models.export on its weight file)") % path)
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map

        config, self.steps = json.loads(meta["config"]), int(meta["steps"])
        super().__init__(config, int(meta["margin"]), meta["version"],
                         Calibration.stored(json.loads(meta["confidence"]), self.steps),
                         ScaleShift.stored(json.loads(meta.get("self_check", "null")), self.steps))
        self.device, self.names = "cpu", [i.name for i in self.session.get_inputs()]

    def __call__(self, arrays, stats=None):
        feed = dict(zip(("hi", "mid", "lo"), (arrays[f] for f in self.inputs)), **stats._asdict())
        return self.session.run(["output"], {n: np.ascontiguousarray(feed[n], np.float32) for n in self.names})[0]


class MultiFrameTorch(Network):
    """The multi-frame network (models.multiframe) in PyTorch on `device`, its convolutions in `precision`. Unlike the
    single-image networks it is called with a stack: frames (N, T, 4, rows, cols) DN of B2 B3 B4 B8, frame 0 the
    reference; masks (N, T, 1, rows, cols), 1 where a frame's pixel may be used; stats (N, T, 2, 4), each frame's
    mean and standard deviation per band over the scene; shifts (N, T, 2), each frame's measured shift against the
    reference in pixels (rows, cols). It gives the reference's bands at twice its resolution."""
    bands, inputs, scale, per_10m = BANDS_10M, (1,), 2, 2

    def __init__(self, module, version="", device="cpu", precision="float32"):
        self.module, self.version, self.device, self.precision = module, version, device, precision
        self.margin = module.margin

    def __call__(self, frames, masks, stats, shifts):
        import torch

        tensors = [torch.from_numpy(np.ascontiguousarray(a, np.float32)).to(self.device)
                   for a in (frames, masks, stats, shifts)]
        try:
            with torch.inference_mode(), autocast(self.device, self.precision):
                return self.module(*tensors).float().cpu().numpy()
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            raise OutOfMemory() from None
