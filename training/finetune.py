"""Adapt a model to your own region: every scene is its own training data by the Wald protocol (its bands degraded by
the network's scale and restored are pairs with a known answer).

    python -m s2sr.training.finetune PRODUCT_OR_BAND_FOLDER... --name my_region [--minutes 3] [--targets 20m 60m]
        [--model dsen2_oscd] [--out FOLDER]

Wald pairs are cut from windows sampled over each scene's area (run.selfcheck.wald_windows: the tile is never read
whole); the eastern HOLDOUT of every area is held out for validation, the rest trains. The base model's networks
are trained further for the time budget (split between them), and each is kept only if its SRE gain over bicubic on
the held-out part rises; the new model (both networks: the kept ones, the base's others) is written with a model card
per network. s2sr:finetune runs the same from the Toolbox.
"""
import argparse
import dataclasses
import datetime
import logging
import os
import re
import shutil
import time
import uuid

import numpy as np
import torch
from osgeo import gdal

from ..core.bands import GROUPS
from ..core.errors import Cancelled, InputError, tr
from ..core.raster import band_offsets, open_scene
from ..run.estimates import estimated
from ..run.selfcheck import NAMES, pooled_sre, wald_windows
from ..models import MODELS_DIR, available_models, load_module, resolve, version_text, weights_path
from ..models.backends import TorchNetwork
from ..models.export import export
from .evaluate import sre_gain
from .model_card import finetuned_card
from .train import BATCH, PATCH, PatchSampler, fit

LOG = logging.getLogger(__name__)
HOLDOUT = 0.25  # share of each area's width, in the east, held out for validation
LR = 2e-4  # peak learning rate: a fifth of training's, for a network that is already trained
SCALES = {"20m": 2, "60m": 6}
NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclasses.dataclass
class Outcome:
    """What a fine-tuning run gave, per scale: the held-out scores before and after (`held_out_scores`), the steps,
    whether the network was kept and what the scores measure (`describe`); `model`: the name of the model to use (the
    base one if no network was kept)."""
    model: str
    before: dict
    after: dict
    steps: dict
    kept: dict
    measures: dict = dataclasses.field(default_factory=dict)

    def gain(self, which):
        """Mean over the networks of the held-out SRE gain over bicubic (dB), `which` "before" or "after"."""
        return float(np.mean([sre_gain(r) for r in getattr(self, which).values()]))


def held_out_pairs(scenes, extent, scale):
    """(training pairs {name: Wald pair}, held-out windows [(Wald pairs, their SceneStats)] a scene) from windows of
    each scene (core.product.Product) west and east of its split; InputError where a part is too small."""
    train, held = {}, []
    for i, scene in enumerate(scenes):
        stacks = [scene.stacks[1], scene.stacks[2], scene.stacks[6] if scale == 6 else None]
        if scale == 6 and not scene.stacks[6]:
            raise InputError(tr("fine-tuning the 6x network needs the 60 m bands (B1 B9) in every scene"))
        west, east = (part_windows(scene, stacks, box, scale) for box in halves(open_scene(*stacks, extent)[1]))
        train.update({"%d_%d" % (i, j): p for j, p in enumerate(west[0])})
        held.append(east)
    return train, held


def halves(grid):
    """The areas (xmin, ymin, xmax, ymax) west and east of the split of `grid`'s area (the east: HOLDOUT of its width,
    on whole coarse pixels)."""
    split = grid.x0 + round(grid.cols * (1 - HOLDOUT) / grid.block) * grid.block * grid.res
    top, bottom, right = grid.y0, grid.y0 - grid.rows * grid.res, grid.x0 + grid.cols * grid.res
    return (grid.x0, bottom, split, top), (split, bottom, right, top)


def part_windows(scene, stacks, box, scale):
    """(Wald pairs, their SceneStats) of the windows over the part `box` of a scene (its `stacks` [10 m, 20 m, 60 m or
    None]; None: all of it); InputError where there are none."""
    datasets, sub = open_scene(*stacks, box)
    pairs, stats, note = wald_windows(datasets, {f: band_offsets(scene.offsets, f) for f in datasets}, sub, scale)
    if not pairs:
        raise InputError(tr("the area is too small to fine-tune the %dx network, or holds no-data: its training part "
                            "(west) and its held-out part (east, %d %% of the width) each need a window of valid "
                            "pixels (%s)") % (scale, 100 * HOLDOUT, note))
    return pairs, stats


def held_out_scores(net, held):
    """Per-band SRE (dB) of the network, bicubic upsampling and HPF pan-sharpening over all the pixels of the held-out
    windows (errors pooled, not averaged window by window: so s2sr:evaluate scores an area), each scene's windows
    under their joint SceneStats (as a run uses its area's): {"bands", method: {"sre": [...]}}."""
    bands = list(GROUPS[net.scale])
    sre = pooled_sre(((slice(None), pair["target"], guesses) for pairs, stats in held
                      for pair, guesses in estimated(net, pairs, stats)), len(bands), NAMES)
    return dict(bands=bands, **{m: {"sre": v} for m, v in sre.items()})


def describe(scale, train, held):
    """What the held-out score measures, in the log's words."""
    return tr("%dx, by the Wald protocol (every band degraded %d times, the %d m bands restored to %d m and compared "
              "with the measured ones): %d training windows in the west of the area, %d held-out windows in its "
              "eastern %d %%; SRE gain over bicubic upsampling over all the held-out pixels, as s2sr:evaluate scores "
              "an area") % (scale, scale, 10 * scale, 10 * scale, len(train), sum(len(p) for p, _ in held),
                            100 * HOLDOUT)


def finetune(scenes, name, minutes, targets=("20m",), model=None, model_dirs=(MODELS_DIR,), out=None, extent=None,
             progress=None, is_cancelled=None, log=LOG.info, seed=0, steps=0):
    """Fine-tune `model` (default: the shipped one, models.DEFAULT) on `scenes` (core.product.Product) for `minutes`
    in all (or `steps` per network, whichever ends first: a run bounded by steps gives the same result on any
    machine), write the model `name` into `out` (default: the last of model_dirs) unless no network improved; the
    Outcome.
    progress(percent) and is_cancelled() as in run.pipeline; a cancelled run saves nothing (Cancelled)."""
    model = resolve(model, model_dirs)
    out = out or model_dirs[-1]
    if not NAME.match(name or ""):
        raise InputError(tr("give the new model a name of letters, digits, _ and - (not %r)") % name)
    if name in available_models((MODELS_DIR,)):
        raise InputError(tr("%s is the name of a model shipped with the plugin: choose another name") % name)
    scales = [SCALES[t] for t in SCALES if t in targets]
    budget = 60.0 * minutes / len(scales)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    outcome = Outcome(model, {}, {}, {}, {})
    states = {}
    for k, scale in enumerate(scales):
        train, held = held_out_pairs(scenes, extent, scale)
        module, ckpt = load_module(weights_path(model, scale, model_dirs))
        start = time.time()
        outcome.measures[scale] = describe(scale, train, held)
        log(outcome.measures[scale])
        tune(module, train, held, budget, steps, rng, outcome, log,
             progress and (lambda share, k=k: progress(100.0 * (k + share) / len(scales))), is_cancelled)
        states[scale] = (module, ckpt, time.time() - start)
    if any(outcome.kept.values()):
        _write(out, name, model, model_dirs, scenes, extent, minutes, outcome, states)
        outcome.model = name
    return outcome


def tune(module, train, held, budget, steps, rng, outcome, log, progress=None, is_cancelled=None):
    """Train `module` (a models.dsen2.DSen2 of the plugin's) on the Wald pairs `train` for `budget` seconds or `steps`
    steps, whichever ends first; its held-out scores on `held` (`held_out_pairs`) before and after, its steps and
    whether it beats its former self there go into `outcome` (an Outcome) under its scale. progress(share of the
    budget spent); is_cancelled(): Cancelled is raised."""
    scale = module.scale
    outcome.before[scale] = held_out_scores(TorchNetwork(module.eval()), held)
    log("%dx: held-out SRE gain over bicubic before: %+.2f dB" % (scale, sre_gain(outcome.before[scale])))
    start, last = time.time(), [0.0]

    def on_step(step, share, loss):
        if progress:
            progress(share)
        if time.time() - last[0] > 10:
            last[0] = time.time()
            log("%dx: step %d, L1 %.4f, %.1f min left" % (scale, step, loss, (budget - (time.time() - start)) / 60))
        return bool(is_cancelled and is_cancelled())

    opt = torch.optim.Adam(module.parameters(), lr=LR)
    taken = fit(module, opt, PatchSampler(train, scale, PATCH[scale], rng), BATCH[scale], budget, LR, steps,
                on_step=on_step)
    if is_cancelled and is_cancelled():
        raise Cancelled()
    outcome.steps[scale] = taken
    outcome.after[scale] = held_out_scores(TorchNetwork(module.eval()), held)
    outcome.kept[scale] = sre_gain(outcome.after[scale]) > sre_gain(outcome.before[scale])
    log("%dx: %d steps; held-out SRE gain over bicubic after: %+.2f dB (before %+.2f): %s"
        % (scale, taken, sre_gain(outcome.after[scale]), sre_gain(outcome.before[scale]),
           "kept" if outcome.kept[scale] else "not kept, no better than the base network"))


def _write(out, name, base, model_dirs, scenes, extent, minutes, outcome, states):
    """Both networks of the new model into `out` (written under temporary names first), with their cards."""
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, ".s2sr-finetune-%s" % uuid.uuid4().hex)
    os.makedirs(tmp)
    try:
        for scale in (2, 6):
            path = os.path.join(tmp, "%s_%dx.pt" % (name, scale))
            if outcome.kept.get(scale):
                module, ckpt, seconds = states[scale]
                record = ckpt["record"]
                run = dict(date=datetime.date.today().isoformat(), steps=outcome.steps[scale], seconds=round(seconds),
                           lr=LR, threads=torch.get_num_threads(), device="cpu", precision="float32",
                           patch=PATCH[scale], batch=BATCH[scale], note="fine-tuned from %s" % base)
                torch.save(dict(config=module.config, state_dict=module.state_dict(),
                                record=dict(record, steps=record["steps"] + outcome.steps[scale],
                                            seconds=record["seconds"] + seconds, runs=record["runs"] + [run])), path)
                with open(path[:-3] + ".md", "w", encoding="utf-8") as f:
                    f.write(finetuned_card(name, "%s (%s)" % (base, version_text(ckpt)), scale, scenes, extent,
                                           minutes, outcome, LR, HOLDOUT))
            else:
                shutil.copyfile(weights_path(base, scale, model_dirs), path)
            export(path)  # the same ONNX export as the shipped networks': the model runs in ONNX Runtime too
        for entry in sorted(os.listdir(tmp), key=lambda e: e.endswith(".pt")):  # the weights last: a model is
            os.replace(os.path.join(tmp, entry), os.path.join(out, entry))  # listed only once it is whole
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None):
    from ..core.product import open_path

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", help="products (.SAFE, .zip, MTD XML) or folders of band files")
    parser.add_argument("--name", required=True)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--steps", type=int, default=0, help="at most this many steps per network (0: time only)")
    parser.add_argument("--targets", nargs="+", choices=tuple(SCALES), default=["20m"])
    parser.add_argument("--model")
    parser.add_argument("--models-dir", action="append", default=[])
    parser.add_argument("--out", help="folder of the new model (default: the last --models-dir, else the plugin's)")
    parser.add_argument("--extent", nargs=4, type=float, metavar=("XMIN", "YMIN", "XMAX", "YMAX"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    folder = "/vsimem/s2sr_finetune_%s" % uuid.uuid4().hex
    try:
        scenes = [open_path(p, "%s/%d" % (folder, i)) for i, p in enumerate(args.inputs)]
        outcome = finetune(scenes, args.name, args.minutes, args.targets, args.model,
                           (MODELS_DIR,) + tuple(args.models_dir), args.out, args.extent, steps=args.steps)
    except InputError as err:
        parser.exit(2, "error: %s\n" % err)
    finally:
        gdal.RmdirRecursive(folder)
    print("model %s: held-out SRE gain over bicubic %+.2f -> %+.2f dB" % (
        outcome.model, outcome.gain("before"), outcome.gain("after")))


if __name__ == "__main__":
    main()
