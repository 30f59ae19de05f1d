"""Where a network runs: PyTorch (the weight file, `<name>_<scale>x.pt`) or ONNX Runtime (the file exported beside
it, `<name>_<scale>x.onnx`, models.export). Both give the same network interface: called with the input bands in DN
and the scene's SceneStats, they return the sharpened bands in DN; `scale`, `n_out`, `margin`, `version`,
`calibration` (core.confidence) and `device` describe them."""
import json
import os

import numpy as np
import torch

from ..core.errors import tr

class OnnxNetwork:
    """A network exported by models.export, run by ONNX Runtime on the CPU in float32."""

    device = torch.device("cpu")

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
        options.intra_op_num_threads = threads or torch.get_num_threads()
        self.session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.config, self.steps = json.loads(meta["config"]), int(meta["steps"])
        self.scale, self.margin, self.version = self.config["scale"], int(meta["margin"]), meta["version"]
        self.n_out = self.config["n_lo"] if self.scale == 6 else self.config["n_mid"]
        self.inputs = [i.name for i in self.session.get_inputs()]
        from ..core.confidence import Calibration

        calibration = json.loads(meta["confidence"]) or {}
        self.calibration = Calibration(**calibration) if calibration.get("steps") == self.steps else None

    def __call__(self, hi, mid, lo=None, stats=None):
        arrays = dict(zip(("hi", "mid", "lo"), (hi, mid, lo)), **stats._asdict())
        feed = {name: np.ascontiguousarray(arrays[name].float().cpu().numpy()) for name in self.inputs}
        return torch.from_numpy(self.session.run(["output"], feed)[0]).to(hi.device)

    def eval(self):
        return self

    def to(self, device):
        if torch.device(device).type != "cpu":
            raise IOError(tr("the onnxruntime backend runs on the CPU: choose DEVICE cpu or the torch backend"))
        return self
