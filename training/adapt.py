"""Per-scene adaptation (`ADAPT` of s2sr:superresolve, `--adapt` of the batch command): before a run, the plugin's
networks are fine-tuned for a few seconds on the scene's own Wald pairs, as s2sr:finetune does (windows of the west
of the area train, the eastern HOLDOUT is held out), and each is used only where its SRE gain over bicubic on the
held-out windows rises; nothing is written to disk. The adapted networks keep their base's confidence calibration
and self-check shift (fitted for the base; the self-check then scores them on windows that partly trained them)."""
import dataclasses
import logging

import numpy as np
import torch

from ..core.devices import select_backend
from ..core.errors import InputError, tr
from ..models import load_module, torch_network, weights_path
from ..models.cards import is_card
from ..run.opened import OpenedModel, open_model
from .evaluate import sre_gain
from .finetune import Outcome, held_out_pairs, tune

LOG = logging.getLogger(__name__)


def adapted(product, options, progress=None, is_cancelled=None, log=LOG.info, seed=0, steps=0):
    """`options` (run.options.Options) for a run on `product` (core.product.Product) with its model opened and each
    network fine-tuned on the scene for its share of `options.adapt` seconds (or `steps` steps, whichever ends
    first), kept where its held-out score rises; `options` itself where `adapt` is 0. InputError for a model card's
    model or the ONNX Runtime backend (fine-tuning runs in PyTorch). A network whose area is too small to hold out a
    part is run as it is, and the log says why. progress(percent of the adaptation); is_cancelled() -> Cancelled."""
    if not options.adapt:
        return options
    if isinstance(options.model, OpenedModel):
        raise InputError(tr("ADAPT takes a model by its name, not a model opened already (adapted once)"))
    if is_card(options.model):
        raise InputError(tr("ADAPT fine-tunes the plugin's own networks: set it to 0 for the model of a model card"))
    runtime = options.runtime
    if select_backend(runtime.backend) != "torch":
        raise InputError(tr("ADAPT fine-tunes the networks in PyTorch: choose the torch backend (or automatic where "
                            "PyTorch is installed), or set ADAPT to 0"))
    model = open_model(options.model, options.band_groups(product), bool(product.stacks.get(6)), runtime,
                       options.folders(), log)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    budget = float(options.adapt) / len(model.nets)
    for k, (scale, net) in enumerate(list(model.nets.items())):
        try:
            train, held = held_out_pairs([product], options.extent, scale)
        except InputError as err:
            log(tr("ADAPT: the %dx network runs as it is: %s") % (scale, err))
            continue
        module, _ = load_module(weights_path(model.name, scale, options.folders()))
        outcome = Outcome(model.name, {}, {}, {}, {})
        tune(module, train, held, budget, steps, rng, outcome, log,
             progress and (lambda share, k=k: progress(100.0 * (k + share) / len(model.nets))), is_cancelled)
        if outcome.kept[scale]:
            version = "%s, adapted to this scene (%d steps; held-out SRE gain over bicubic %+.2f -> %+.2f dB)" % (
                net.version, outcome.steps[scale], sre_gain(outcome.before[scale]), sre_gain(outcome.after[scale]))
            model.nets[scale] = torch_network(module.eval(), version, net.calibration, net.check_shift, model.device,
                                              model.precision)
    model.version = "; ".join("%dx: %s" % (s, n.version) for s, n in model.nets.items())
    return dataclasses.replace(options, model=model)
