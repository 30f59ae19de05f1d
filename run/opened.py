"""A model opened for a run, whatever its kind: its networks per scale (models.network.Network), how it is
self-checked, and what a run needs to know of it. `open_model` is the one way to open one: the plugin's own networks
by name (`PluginModel`) or the model of a model card (`CardModel`), so that the run (run.pipeline) treats both
alike."""
from ..core.bands import GROUPS
from ..core.degrade import wald_pair
from ..core.devices import select_backend, select_device, select_precision
from ..core.errors import InputError, tr
from ..core.scene import scene_stats
from .. import models
from ..models.cards import Card, CardNetwork, is_card, read_card
from . import estimates, selfcheck

#: band group -> the scale of the plugin's network that sharpens it
TARGETS = {"20m": 2, "60m": 6}


def open_model(model, targets, input_60m, runtime, folders, log):
    """The model to run: `model` a plugin model's name (None or "": the shipped one) for the band groups `targets`
    ("20m", "60m"; `input_60m`: whether the 60 m bands are given), or a model card (its path, or a
    models.cards.Card); its networks computed as `runtime` (a core.devices.Runtime) asks, weights from `folders`;
    log(message) for what is worth saying. A model opened already (an OpenedModel: training.adapt's) is taken as it
    is."""
    if isinstance(model, OpenedModel):
        return model
    if is_card(model):
        return CardModel(model if isinstance(model, Card) else read_card(model), runtime)
    return PluginModel(models.resolve(model, folders), targets, input_60m, runtime, folders, log)


class OpenedModel:
    """What a run needs of a model: `name`; `nets` {scale: Network}; `inputs`, the input groups it reads (pixel
    factors 1, 2, 6); `keeps_10m`, whether the measured 10 m bands may go into its output; `backend`, `device`,
    `precision` as chosen; `scales` and `version`, what the output's metadata says of it."""

    keeps_10m = True

    def scene_stats(self, windows, scale):
        """The SceneStats of the scene from sampled windows ({factor: array}), for the network of `scale`."""
        return scene_stats([[w[f] for f in self.nets[scale].inputs] for w in windows], scale)

    def refuse_confidence(self):
        """InputError where the model cannot give a confidence map."""

    def check(self, net, datasets, shifts, grid, self_check, confidence):
        """The self-check of `net` (the network of one scale, as the run computes it) on the scene ({factor:
        dataset}, their offsets `shifts`, the run's grid): (the Wald pairs of its windows with their estimates, their
        SceneStats, why there are none) for the confidence map's scene correction, and the run.selfcheck.Check
        (None with `self_check` off)."""
        raise NotImplementedError

    def wald_estimates(self, scene):
        """Every network's estimates on one whole scene ({1, 2, 6: float32 (bands, rows, cols)}) by the Wald protocol,
        what run.evaluation scores: yields (label, bands, truth, {method: estimate}, the truth's pixel size in 10 m
        pixels, the network); InputError where the scene is too small."""
        raise NotImplementedError

    def own_scale_estimates(self, scene):
        """Every network's estimates on one whole scene at its own scale (no degradation, no reference), what
        run.evaluation's reference-free measures score: yields (label, bands, {method: estimate at 10 m}, the measured
        bands, their pixel size in 10 m pixels, their pan bands at 10 m); none for a model that gives no such set."""
        return iter(())


class PluginModel(OpenedModel):
    """The plugin's own networks, by name: a 2x network for the 20 m bands and a 6x one for the 60 m bands."""

    def __init__(self, name, targets, input_60m, runtime, folders, log):
        scales = [TARGETS[t] for t in TARGETS if t in targets]
        if not scales:
            raise InputError(tr("choose at least one band to super-resolve: one of the 20 m bands (B5 B6 B7 B8A B11 "
                                "B12) or the 60 m bands (B1 B9)"))
        if 6 in scales and not input_60m:
            raise InputError(tr("super-resolving the 60 m bands (B1 B9) needs the 60 m raster: give INPUT_60M (or a "
                                "product with them), or leave B1 and B9 out of the bands to write"))
        self.name, self.folders = name, folders
        self.backend = select_backend(runtime.backend)
        self.device = "cpu" if self.backend == "onnxruntime" and runtime.device == "auto" else select_device(
            runtime.device)
        self.precision = select_precision(runtime.precision, self.device) if self.backend == "torch" else "float32"
        self.nets = {s: models.load_network(models.weights_path(name, s, folders), self.device, self.backend,
                                            self.precision, runtime.threads, log) for s in scales}
        self.inputs = (1, 2, 6) if input_60m else (1, 2)  # all it is given: the same grid whatever is picked
        self.scales = " ".join("%dx:%s" % (s, ",".join(n.bands)) for s, n in self.nets.items())
        self.version = "; ".join("%dx: %s" % (s, n.version) for s, n in self.nets.items())

    def refuse_confidence(self):
        for s, net in self.nets.items():
            if net.calibration is None:
                raise InputError(tr("the %dx network of model %s has no calibrated confidence map (it was trained "
                                    "after its calibration): run python -m s2sr.training.confidence on %s, or leave "
                                    "the confidence output out")
                                 % (s, self.name, models.weights_path(self.name, s, self.folders)))

    def check(self, net, datasets, shifts, grid, self_check, confidence):
        pairs = [], None, ""
        if self_check or confidence and net.calibration.scene:  # the scene correction needs the windows too
            windows, window_stats, note = selfcheck.wald_windows(datasets, shifts, grid, net.scale)
            pairs = estimates.estimated(net, windows, window_stats), window_stats, note
        return pairs, selfcheck.self_check(net, pairs[0], pairs[2]) if self_check else None

    def wald_estimates(self, scene):
        for scale, net in self.nets.items():
            pair = wald_pair(scene, scale)
            if min(pair["target"].shape[1:]) < 4 * scale:
                raise InputError(tr("the area is too small to evaluate the %dx model: choose a larger EXTENT") % scale)
            yield "%dx" % scale, GROUPS[scale], pair["target"], estimates.estimates(net, pair), scale, net

    def own_scale_estimates(self, scene):
        for scale, net in self.nets.items():
            block = max(net.inputs)  # whole cells of the coarsest input
            rows, cols = (n - n % block for n in scene[1].shape[1:])
            cut = {f: scene[f][:, : rows // f, : cols // f] for f in net.inputs}
            made, measured, pans = estimates.own_scale_estimates(net, cut)
            yield "%dx" % scale, GROUPS[scale], made, measured, scale, pans


class CardModel(OpenedModel):
    """The model of a model card (models.cards), in ONNX Runtime on the CPU: the card's bands on its own grid."""

    keeps_10m = False  # its output grid is its own (e.g. 5 m)
    backend, device, precision = "onnxruntime", "cpu", "float32"
    inputs = (1, 2)

    def __init__(self, card, runtime):
        self.card, self.name = card, card.name
        self.nets = {card.factor: CardNetwork(card, runtime.threads)}
        self.scales = "%gx:%s (card %s)" % (card.factor, ",".join(card.bands), card.path)
        self.version = "; ".join(n.version for n in self.nets.values())

    def scene_stats(self, windows, scale):
        return None  # the card's model takes DN as they are

    def refuse_confidence(self):
        raise InputError(tr("CONFIDENCE is available for the plugin's own networks only (it is calibrated for them), "
                            "not for the model of the card %s") % self.card.path)

    def check(self, net, datasets, shifts, grid, self_check, confidence):
        """Against bicubic upsampling only, on windows it reads itself (run.selfcheck.card_check)."""
        return ([], None, ""), selfcheck.card_check(net, datasets, shifts, grid) if self_check else None

    def wald_estimates(self, scene):
        """Each of the card's bands compared at its own pixel size (run.estimates.card_estimates)."""
        net = self.nets[self.card.factor]
        for factor, (bands, truth, guesses) in estimates.card_estimates(net, scene, check_size=True).items():
            yield "%dx card, %d m bands" % (self.card.factor, 10 * factor), bands, truth, guesses, factor, net
