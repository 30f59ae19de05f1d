"""One input of a batch, run on a Dask worker (or anywhere): super-resolved exactly as `s2sr:superresolve` does it,
unless its output is already complete for the same input, options, plugin version and model files."""
import json
import logging
import os
import time
import uuid
from dataclasses import asdict, replace


from . import inputs
from ..core.errors import InputError
from ..core.gdal_calls import opened, remove_files
from ..run.pipeline import super_resolve
from ..core.product import open_path
from ..core.version import plugin_version
from .. import models
from ..models.cards import is_card, read_card

KEY = "S2SR_BATCH"  # output metadata item: what the output was made from (a JSON object)
LOG = logging.getLogger("s2sr.batch")


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
        log = lambda message: LOG.info("%s: %s", path, message)  # noqa: E731
        if options.adapt:
            from ..training.adapt import adapted  # PyTorch: only where asked for

            options = adapted(scene, options, log=log)
        super_resolve(replace(scene, metadata=dict(scene.metadata, **{KEY: made})), output, options, log=log)
    finally:
        remove_files(folder)


def _key(path, options):
    """What the output of `path` with `options` (run.options.Options) is made from: the input's files, the options
    that change the output, the plugin version and the model's files."""
    chosen = asdict(options)
    chosen.pop("tile_size")
    chosen["runtime"].pop("threads")
    folders = options.folders()
    if is_card(options.model):
        model_files = [options.model, read_card(options.model).model]
    else:
        name = models.resolve(options.model, folders)
        model_files = [models.weights_path(name, s, folders) for s in (2, 6)]
    return json.dumps(dict(input=path, content=inputs.fingerprint(path), options=chosen, version=plugin_version(),
                           model=[inputs.fingerprint(p) if os.path.exists(p) else None for p in model_files]),
                      sort_keys=True)


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
