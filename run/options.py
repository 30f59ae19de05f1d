"""The settings of one run of run.pipeline.super_resolve, in one object: what the parameters of `s2sr:superresolve`
and the flags of the batch command (python -m s2sr.batch) set."""
from dataclasses import dataclass

from ..core.devices import Runtime
from ..core.tiling import BLOCK
from .. import models


@dataclass(frozen=True)
class Options:
    """targets: band groups to sharpen, any of "20m" (B5 B6 B7 B8A B11 B12, the 2x network) and "60m" (B1 B9, the 6x
    network); empty: the 20 m bands, and the 60 m bands where the input has them.
    model: a plugin model's name (empty: models.DEFAULT), the path of a model card (.yaml) or a models.cards.Card;
    model_dirs: folders of models besides the plugin's own.
    extent: (xmin, ymin, xmax, ymax) in the 10 m bands' CRS, the area read and processed; None: all of it.
    include_10m: the measured 10 m bands go into the output too. consistency: every sharpened band averages exactly
    to its measured coarse pixels (core.consistency). self_check: each network is scored on the scene first
    (run.selfcheck) and a band where it loses to bicubic or HPF pan-sharpening is made by that method instead.
    runtime: a core.devices.Runtime, how the networks are computed (device, precision, backend, threads, flips).
    tile_size: 10 m pixels read and written at once (0: the device's default, at most core.tiling.MAX_TILE), which
    does not change the result; block: the side of the blocks a network runs on (core.tiling), which changes it by
    float rounding only."""
    targets: tuple = ()
    model: object = ""
    model_dirs: tuple = ()
    extent: tuple = None
    include_10m: bool = True
    consistency: bool = False
    self_check: bool = True
    runtime: Runtime = Runtime()
    tile_size: int = 0
    block: int = BLOCK

    def folders(self):
        """Where the model's weights are looked for: `model_dirs`, then the plugin's models folder."""
        return tuple(dict.fromkeys(tuple(self.model_dirs) + (models.MODELS_DIR,)))

    def band_groups(self, product):
        """The band groups the run sharpens for `product` (a core.product.Product)."""
        return tuple(self.targets) or (("20m", "60m") if product.stacks.get(6) else ("20m",))
