"""Super-resolve Sentinel-2 band rasters to 10 m: plan the grid, infer tile by tile, write a GeoTIFF."""
import datetime
import os

import numpy as np
import torch

from .bands import BANDS_10M, BANDS_20M, BANDS_60M, output_order
from .errors import Cancelled, InputError
from .grid import plan as plan_grid, source_of
from .raster import OutputRaster, nodata_mask, open_input, read_window
from .tiling import tiles
from .. import models

TARGETS = {"20m": (2, BANDS_20M), "60m": (6, BANDS_60M)}
DEFAULT_TILE = 512


def select_device(name):
    """'auto' -> CUDA when torch sees a GPU, else CPU; 'cuda' without a GPU is an error."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("DEVICE is cuda but this PyTorch sees no CUDA GPU: choose auto or cpu, or install a "
                         "CUDA build of PyTorch")
    return name


def super_resolve(input_10m, input_20m, output, input_60m=None, targets=("20m",), include_10m=True,
                  model=None, model_dirs=(models.MODELS_DIR,), device="auto", tile_size=DEFAULT_TILE,
                  progress=None, is_cancelled=None, log=print):
    """Write `output` with the chosen bands at 10 m; returns the list of band names written.

    targets: any of "20m" (B5 B6 B7 B8A B11 B12 from the 2x network) and "60m" (B1 B9 from the 6x
    network, needs input_60m). progress(percent) and is_cancelled() are optional callbacks.
    """
    targets = [t for t in TARGETS if t in targets]
    if not targets:
        raise InputError("choose at least one group of bands to super-resolve")
    if "60m" in targets and not input_60m:
        raise InputError("super-resolving the 60 m bands needs the 60 m raster (B1 B9): give INPUT_60M or "
                         "choose the 20 m bands only")
    datasets = {1: open_input(input_10m, 1, 4), 2: open_input(input_20m, 2, 6)}
    if "60m" in targets:
        datasets[6] = open_input(input_60m, 6, (2, 3))
    grid = plan_grid({f: source_of(ds, f) for f, ds in datasets.items()})
    installed = models.available_models(model_dirs)
    if not installed:
        raise InputError("no trained models found in %s: reinstall the plugin" % ", ".join(model_dirs))
    model = model or installed[0]
    nets = {}
    device = select_device(device)
    for t in targets:
        scale = TARGETS[t][0]
        nets[scale] = models.load_network(models.weights_path(model, scale, model_dirs), device)
    margin = max(net.margin for net in nets.values())
    bands = output_order((BANDS_10M if include_10m else ()) + sum((TARGETS[t][1] for t in targets), ()))
    first = datasets[1].GetRasterBand(1)
    nodatas = [ds.GetRasterBand(1).GetNoDataValue() for ds in datasets.values()]
    nodata = next((v for v in nodatas if v is not None), None)
    metadata = {
        "S2SR_MODEL": model, "S2SR_DEVICE": device, "S2SR_SOURCES": " ".join(map(os.path.basename, filter(None, (
            input_10m, input_20m, input_60m if "60m" in targets else None)))),
        "S2SR_PROCESSED": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    log("output grid: %d x %d pixels of %g m, bands %s, model %s on %s"
        % (grid.cols, grid.rows, grid.res, " ".join(bands), model, device))
    out = OutputRaster(output, grid, bands, first.DataType, nodata, metadata)
    try:
        windows = list(tiles(grid, tile_size, margin))
        for i, (core, read) in enumerate(windows):
            if is_cancelled and is_cancelled():
                raise Cancelled()
            _process_tile(datasets, grid, nets, core, read, include_10m, out, device)
            if progress:
                progress(100.0 * (i + 1) / len(windows))
        out.commit()
    except BaseException:
        out.discard()
        raise
    return bands


def _process_tile(datasets, grid, nets, core, read, include_10m, out, device):
    """Read one window with its margin, run the networks, write the core of the result."""
    counts = {1: 4, 2: 6, 6: 2}
    arrays = {f: read_window(ds, grid, f, read, counts[f]) for f, ds in datasets.items()}
    masks = [m for m in (nodata_mask(ds, arrays[f], f) for f, ds in datasets.items()) if m is not None]
    mask = np.logical_or.reduce(masks) if masks else None
    tensors = {f: torch.from_numpy(a)[None].to(device) for f, a in arrays.items()}
    results = {}
    if include_10m:
        results.update(zip(BANDS_10M, arrays[1]))
    with torch.inference_mode():
        if 2 in nets:
            results.update(zip(BANDS_20M, nets[2](tensors[1], tensors[2])[0].float().cpu().numpy()))
        if 6 in nets:
            results.update(zip(BANDS_60M, nets[6](tensors[1], tensors[2], tensors[6])[0].float().cpu().numpy()))
    r0, c0 = core[0] - read[0], core[1] - read[1]
    crop = (slice(r0, r0 + core[2]), slice(c0, c0 + core[3]))
    for name, data in results.items():
        out.write(name, core[0], core[1], data[crop], None if mask is None else mask[crop])
