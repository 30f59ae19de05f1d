"""One input of a batch, run on a Dask worker (or anywhere): super-resolved exactly as `s2sr:superresolve` does it,
unless its output is already complete for the same input, options, plugin version and model files."""
import json
import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass

from osgeo import gdal

from . import inputs
from ..core.devices import Runtime
from ..core.errors import InputError
from ..core.gdal_calls import opened
from ..run.pipeline import super_resolve
from ..core.product import open_path
from ..core.version import plugin_version
from .. import models
from ..models.cards import CARD_EXTENSIONS, read_card

KEY = "S2SR_BATCH"  # output metadata item: what the output was made from (a JSON object)
#: options that do not change the output (run.pipeline.super_resolve), left out of KEY
NEUTRAL = ("threads", "tile_size")
LOG = logging.getLogger("s2sr.batch")


@dataclass(frozen=True)
class Options:
    """The options of `s2sr:superresolve`, as the batch command takes them."""
    targets: tuple = ()  # "20m", "60m"; empty: the 20 m bands, and the 60 m bands where the input has them
    model: str = ""  # a model's name, or the path of a model card; empty: the default model
    model_dirs: tuple = ()  # folders of models besides the plugin's own (that of the machine running the input)
    extent: tuple = None  # (xmin, ymin, xmax, ymax) in the 10 m bands' CRS
    include_10m: bool = True
    consistency: bool = False
    self_check: bool = True
    precision: str = "auto"
    backend: str = "auto"
    device: str = "auto"
    threads: int = 0  # CPU threads of one run (0: the backend's default)
    tile_size: int = 0
    flips: bool = False  # each network averaged over the 8 flips and rotations of the input (models.ensemble)


def output_path(path, out_dir):
    return os.path.join(out_dir, inputs.name(path) + ".tif")


def run(path, out_dir, options):
    """Super-resolve one input into `out_dir`; returns its row of the report (status "done", "skipped" or
    "failed" with the error)."""
    start, output = time.time(), output_path(path, out_dir)
    row = dict(input=path, output=output, worker=_worker())

    def finish(status, error=None):
        return dict(row, status=status, seconds=round(time.time() - start, 2), error=error)

    try:
        made = _key(path, options)
        if _complete(output, made):
            return finish("skipped")
        _super_resolve(path, output, options, made)
    except InputError as err:
        return finish("failed", str(err))
    except Exception as err:  # an unreadable file, a bug: reported with the input, the other inputs go on
        LOG.exception("%s failed", path)
        return finish("failed", "%s: %s" % (type(err).__name__, err))
    return finish("done")


def _super_resolve(path, output, options, made):
    folder = "/vsimem/s2sr_batch_%s" % uuid.uuid4().hex
    try:
        scene = open_path(path, folder)
        card = options.model.lower().endswith(CARD_EXTENSIONS)
        super_resolve(
            scene.stacks[1], scene.stacks[2], output, input_60m=scene.stacks[6],
            targets=options.targets or (("20m", "60m") if scene.stacks[6] else ("20m",)),
            include_10m=options.include_10m, enforce_consistency=options.consistency, extent=options.extent,
            model=read_card(options.model) if card else options.model or None, model_dirs=_model_dirs(options),
            runtime=Runtime(options.device, options.precision, options.backend, options.threads, options.flips),
            tile_size=options.tile_size, log=lambda message: LOG.info("%s: %s", path, message), offsets=scene.offsets,
            valid_mask=scene.valid_mask, extra_metadata=dict(scene.metadata, **{KEY: made}),
            self_check=options.self_check)
    finally:
        for name in gdal.ReadDir(folder) or []:
            gdal.Unlink("%s/%s" % (folder, name))


def _key(path, options):
    """What the output of `path` with `options` is made from: the input's files, the options that change the
    output, the plugin version and the model's files."""
    chosen = {k: v for k, v in asdict(options).items() if k not in NEUTRAL}
    if options.model.lower().endswith(CARD_EXTENSIONS):
        model_files = [options.model, read_card(options.model).model]
    else:
        folders = _model_dirs(options)
        name = models.resolve(options.model, folders)
        model_files = [models.weights_path(name, s, folders) for s in (2, 6)]
    return json.dumps(dict(input=path, content=inputs.fingerprint(path), options=chosen, version=plugin_version(),
                           model=[inputs.fingerprint(p) if os.path.exists(p) else None for p in model_files]),
                      sort_keys=True)


def _model_dirs(options):
    return tuple(options.model_dirs) + (models.MODELS_DIR,)


def _complete(output, made):
    """Whether `output` exists, complete (outputs are renamed into place only when whole), from the same `made`."""
    ds = opened(output) if os.path.exists(output) else None
    return ds is not None and ds.GetMetadataItem(KEY) == made


def _worker():
    """The Dask worker running this task (its name, else its address), or None outside a worker."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    return str(worker.name) if worker.name is not None else worker.address
