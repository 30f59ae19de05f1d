"""The model interface: what the pipeline, `s2sr:evaluate` and the self-check see of a model, whatever runs it.

A network is called with the input bands of a block in DN, ``{1: 10 m, 2: 20 m, 6: 60 m}`` float32 numpy arrays
(N, bands, rows, cols) over the same area (those of `inputs`), and the scene's core.scene.SceneStats (the
plugin's own networks standardise every block alike with them; models of cards ignore them), and returns its
`bands` in DN, (N, bands, rows x per_10m, cols x per_10m). Backends: models.backends (the plugin's networks in
PyTorch or ONNX Runtime), models.cards (an ONNX model with a card, in ONNX Runtime).
"""


class Network:
    """A model behind any backend; subclasses set the attributes and implement `__call__`."""
    bands = ()  # the output bands, in the output's order
    inputs = (1, 2)  # the input groups it reads (their pixel size relative to 10 m)
    scale = 2  # how many times finer the output is than the coarsest band it sharpens (the Wald protocol's factor)
    per_10m = 1  # output pixels per 10 m pixel, a side
    margin = 0  # 10 m pixels of context a block needs on each side for the output not to depend on the tiling
    version = ""  # what the output's metadata say of it
    calibration = None  # core.confidence.Calibration of its confidence map, where it has one
    check_shift = None  # core.fits.ScaleShift that corrects its self-check's verdicts, where it has one

    def __call__(self, arrays, stats=None):
        raise NotImplementedError

