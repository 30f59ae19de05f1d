"""The settings of one run of run.pipeline.super_resolve, in one object: what the parameters of `s2sr:superresolve`
and the flags of the batch command (python -m s2sr.batch) set."""
from dataclasses import dataclass

from ..core.bands import BANDS_20M, BANDS_60M, S2_ORDER, output_order
from ..core.devices import Runtime
from ..core.errors import InputError, tr
from ..core.tiling import BLOCK
from .. import models


#: band group (Options.targets) -> its bands
GROUP_BANDS = {"20m": BANDS_20M, "60m": BANDS_60M}


@dataclass(frozen=True)
class Options:
    """targets: band groups to sharpen, any of "20m" (B5 B6 B7 B8A B11 B12, the 2x network) and "60m" (B1 B9, the 6x
    network); empty: the 20 m bands, and the 60 m bands where the input has them.
    bands: the bands the output holds, any of B1 ... B12 that the inputs (or a card's model) serve, written in
    Sentinel-2 order whatever the order given; a network runs only where one of its bands is picked. Empty: as
    `targets` and `include_10m` choose (both are then shortcuts).
    model: a plugin model's name (empty: models.DEFAULT), the path of a model card (.yaml) or a models.cards.Card;
    model_dirs: folders of models besides the plugin's own.
    extent: (xmin, ymin, xmax, ymax) in the 10 m bands' CRS, the area read and processed; None: all of it.
    include_10m: the measured 10 m bands go into the output too. consistency: every sharpened band averages exactly
    to its measured coarse pixels (core.consistency). self_check: each network is scored on the scene first
    (run.selfcheck) and a band where it loses to bicubic or HPF pan-sharpening is made by that method instead.
    runtime: a core.devices.Runtime, how the networks are computed (device, precision, backend, threads, flips).
    tile_size: 10 m pixels read and written at once (0: the device's default, at most core.tiling.MAX_TILE), which
    does not change the result; block: the side of the blocks a network runs on (core.tiling), which changes it by
    float rounding only.
    adapt: seconds of per-scene fine-tuning of the plugin's networks before the run (0: none), which
    training.adapt.adapted applies (s2sr:superresolve and the batch command call it): it returns options whose `model`
    is the opened, adapted model (a run.opened.OpenedModel), which the run takes as it is."""
    targets: tuple = ()
    bands: tuple = ()
    model: object = ""
    model_dirs: tuple = ()
    extent: tuple = None
    include_10m: bool = True
    consistency: bool = False
    self_check: bool = True
    runtime: Runtime = Runtime()
    tile_size: int = 0
    block: int = BLOCK
    adapt: float = 0

    def folders(self):
        """Where the model's weights are looked for: `model_dirs`, then the plugin's models folder."""
        return tuple(dict.fromkeys(tuple(self.model_dirs) + (models.MODELS_DIR,)))

    def band_groups(self, product):
        """The band groups the run sharpens for `product` (a core.product.Product)."""
        if self.bands:
            return tuple(g for g, members in GROUP_BANDS.items() if set(members) & set(self.bands))
        return tuple(self.targets) or (("20m", "60m") if product.stacks.get(6) else ("20m",))

    def output_bands(self, served, measured):
        """The bands the output holds, in Sentinel-2 order: the picked `bands` (InputError naming any that `served`,
        the bands the run can give, lacks), else the sharpened bands of `served` and, with include_10m, the
        `measured` 10 m bands among them."""
        if not self.bands:
            return output_order(b for b in served if b not in measured or self.include_10m)
        unknown = [b for b in self.bands if b not in S2_ORDER]
        if unknown:
            raise InputError(tr("%s is not a Sentinel-2 band name: choose among %s")
                             % (" ".join(unknown), " ".join(S2_ORDER)))
        missing = [b for b in output_order(set(self.bands)) if b not in served]
        if missing:
            raise InputError(tr("the output cannot hold %s: this model and these inputs give %s; leave it out of the "
                                "bands to write") % (" ".join(missing), " ".join(output_order(served))))
        return output_order(set(self.bands))
