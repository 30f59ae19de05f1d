"""Super-resolve Sentinel-2 band rasters to 10 m: plan the grid, infer tile by tile, write a GeoTIFF."""
import dataclasses
import datetime
import logging
import os

import numpy as np
from osgeo import gdal

from ..core import confidence as conf, consistency, pansharpen
from ..core.bands import BANDS_10M, GROUPS, output_order, pixel_factor
from ..core.degrade import block_mean
from ..core.devices import set_threads
from ..core.errors import Cancelled, InputError, OutOfMemory, tr
from ..core.outputs import check_outputs
from ..core.raster import (OutputRaster, band_offsets, bounded_gdal_cache, invalid, nodata_value, open_input,
                           open_scene, read_window)
from ..core.tiling import MAX_TILE, TILE_SIZES, grow, split, tiles
from ..core.version import plugin_version
from ..models.ensemble import FlipEnsemble
from . import selfcheck
from .opened import OpenedModel, open_model
from .options import Options

LOG = logging.getLogger(__name__)

COUNTS = {factor: len(bands) for factor, bands in GROUPS.items()}  # bands used from each input
STAT_SAMPLES = 8  # windows per side of the area whose valid pixels give the scene statistics


@bounded_gdal_cache
def super_resolve(product, output, options=Options(), confidence=None, progress=None, is_cancelled=None,
                  log=LOG.info):
    """Write `output` (a GeoTIFF) with the bands that `options` (run.options.Options) asks for at 10 m; returns the
    list of band names written.

    product: a core.product.Product: its band stacks {1: 10 m, 2: 20 m, 6: 60 m or None}; its offsets (band -> DN,
    e.g. -1000 for processing baseline 04.00), added to the input before the network and taken off the output again,
    so the output keeps the input's convention; its valid_mask, a raster on the 20 m grid (an L2A scene
    classification) whose 0 marks no data; its metadata, items added to the output's metadata (e.g. the source
    product).

    The model (opened by run.opened.open_model): the plugin's networks, or the model of a model card, which gives
    the card's bands on its own output grid, nested in the 10 m one (e.g. 5 m), with its self-check against bicubic
    upsampling (run.selfcheck.card_check); with consistency every band averages to its measured pixels (10 m or
    20 m); its bands can be picked (Options.bands), the targets, include_10m, the 60 m input and confidence do not
    apply to it.

    confidence: path of a second GeoTIFF (optional) with, for every sharpened band, the expected absolute error of
    each 10 m pixel in DN (core.confidence), on the output's grid.

    progress(percent) and is_cancelled() are optional callbacks, called once per block; log(message) says what the
    run chose and found.
    """
    input_60m = product.stacks.get(6)
    check_outputs({"OUTPUT": output, "CONFIDENCE": confidence}, (product.stacks[1], product.stacks[2], input_60m,
                                                                  product.valid_mask), rasters=("OUTPUT", "CONFIDENCE"))
    runtime, block = options.runtime, options.block
    if options.adapt and not isinstance(options.model, OpenedModel):
        raise InputError(tr("ADAPT is applied before the run: pass the options that training.adapt.adapted returns"))
    model = open_model(options.model, options.band_groups(product), input_60m, runtime, options.folders(), log)
    if confidence:
        model.refuse_confidence()
    datasets, grid = open_scene(product.stacks[1], product.stacks[2], input_60m if 6 in model.inputs else None,
                                options.extent)
    offsets, enforce_consistency = product.offsets, options.consistency
    shifts = {f: band_offsets(offsets, f) for f in datasets}
    mask_ds = _open_mask(product.valid_mask, datasets[2]) if product.valid_mask else None
    set_threads(model.backend, runtime.threads)
    tile_size = options.tile_size or TILE_SIZES[model.device]
    if tile_size > MAX_TILE:
        log("tile size %d capped at %d to bound memory (the result does not depend on it)" % (tile_size, MAX_TILE))
        tile_size = MAX_TILE
    nets = {s: FlipEnsemble(net) for s, net in model.nets.items()} if runtime.flips else dict(model.nets)
    margins = {s: max(net.margin, pansharpen.margin(s)) + (conf.reach(s) if confidence else 0) + (consistency.reach(
        max(map(pixel_factor, net.bands))) if enforce_consistency else 0) for s, net in nets.items()}
    measured = BANDS_10M if model.keeps_10m else ()
    bands = options.output_bands(measured + sum((n.bands for n in nets.values()), ()), measured)
    windows = _sample_windows(datasets, shifts, grid)
    stats = {s: model.scene_stats(windows, s) for s in nets}
    fills = {f: _valid_mean([w[f] for w in windows]) for f in datasets}  # no-data pixels get the scene's mean
    # per scale: the self-check's Wald pairs with the estimates of their targets, their stats, why none; its Check
    pairs, checks = {}, {}
    for s, net in nets.items():
        pairs[s], checks[s] = model.check(net, datasets, shifts, grid, options.self_check, confidence)
    checks = {s: c for s, c in checks.items() if c is not None}
    for check in checks.values():
        log("self-check (Wald protocol on the scene, SRE per band): " + check.report(bands))
    scenes = {s: net.calibration.for_scene(*pairs[s][:2]) for s, net in nets.items()} if confidence else {}
    first = datasets[1].GetRasterBand(1)
    # the first input's no-data value; 0 where none is declared (float NaN and Sentinel-2's 0 become 0)
    nodata = next((v for v in map(nodata_value, datasets.values()) if v is not None), 0)
    k = next(iter(nets.values())).per_10m  # output pixels per 10 m pixel
    out_grid = dataclasses.replace(grid, res=grid.res / k, rows=grid.rows * k, cols=grid.cols * k)
    log("output grid: %d x %d pixels of %g m, bands %s, model %s on %s in %s with %s%s"
        % (out_grid.cols, out_grid.rows, out_grid.res, " ".join(bands), model.name, model.device, model.precision,
           model.backend, ", averaged over the 8 flips and rotations of the input" if runtime.flips else ""))
    metadata = {
        "S2SR_VERSION": plugin_version(), "S2SR_MODEL": model.name, "S2SR_DEVICE": model.device,
        "S2SR_PRECISION": model.precision, "S2SR_BACKEND": model.backend, "S2SR_SCALES": model.scales,
        "S2SR_MODEL_VERSION": model.version,
        "S2SR_ADAPT": "%g s" % options.adapt if options.adapt else "off",
        "S2SR_CONSISTENCY": "enforced" if enforce_consistency else "off",
        "S2SR_FLIPS": "mean over the 8 flips and rotations of the input" if runtime.flips else "off",
        "S2SR_SELF_CHECK": " | ".join(c.report(bands) for c in checks.values()) or "off",
        "S2SR_SOURCES": " ".join(os.path.basename(ds.GetDescription()) for ds in datasets.values()),
        "S2SR_PROCESSED": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    used = {b: v for b, v in offsets.items() if b in bands}
    if used:
        metadata["S2SR_ADD_OFFSET"] = " ".join("%s:%g" % (b, used[b]) for b in output_order(used))
        log("DN offsets of the product (added before the network, taken off the output): %s"
            % metadata["S2SR_ADD_OFFSET"])
    metadata.update(product.metadata)
    out = OutputRaster(output, out_grid, bands, first.DataType, nodata, metadata, used, block * k)
    errors = _confidence_raster(confidence, grid, nets, scenes, metadata, block, bands) if confidence else None
    runner = BlockRunner(nets, checks, stats, grid, margins, enforce_consistency, out,
                         (errors, {s: factor for s, (factor, _) in scenes.items()}), log)
    try:
        work = list(tiles(grid, tile_size, block, max(margins.values())))
        total, done = sum(len(members) for _, members in work), 0
        for tile, members in work:
            arrays, mask = _read_tile(datasets, fills, shifts, mask_ds, grid, tile)
            for core, _ in members:
                if is_cancelled and is_cancelled():
                    raise Cancelled()
                runner.run(arrays, mask, tile, core)
                done += 1
                if progress:
                    progress(100.0 * done / total)
        runner.finish()
        out.commit()
        if errors:
            errors.commit()
    except BaseException:
        for raster in (out, errors):
            if raster:
                raster.discard()
        raise
    return bands


def _confidence_raster(path, grid, nets, scenes, metadata, block, picked):
    """The CONFIDENCE output: Float32 stored as 16-bit floats (a tenth of a DN at 100 DN), a band per sharpened band
    of the output's `picked` bands (named and ordered alike), no-data -1;
    `scenes`: per scale the factors of the expected errors and of their 80 % bound for this scene."""
    sources = "; ".join(sorted({net.calibration.source for net in nets.values()}))
    items = dict(metadata, S2SR_CONFIDENCE=(
        "expected absolute error of each sharpened pixel (DN, core.confidence), fitted on %s; about 80 %% of the errors "
        "stay under the value times S2SR_CONFIDENCE_BOUND_80; S2SR_CONFIDENCE_SCENE_FACTOR: how much the value was "
        "scaled for this scene; both from the network's errors on the scene's own windows at reduced scale, where "
        "the calibration has a per-scene correction" % sources),
        S2SR_CONFIDENCE_BOUND_80=" ".join("%dx:%.2f" % (s, bound) for s, (_, bound) in scenes.items()),
        S2SR_CONFIDENCE_SCENE_FACTOR=" ".join("%dx:%.3f" % (s, factor) for s, (factor, _) in scenes.items()))
    bands = [b for b in picked if b not in BANDS_10M]
    return OutputRaster(path, grid, bands, gdal.GDT_Float32, -1.0, items, None, block, half=True)


def _valid_mean(windows):
    """Per band, the mean of the finite pixels of windows (bands, rows, cols); 0 where there is none."""
    values = np.concatenate([w.reshape(len(w), -1) for w in windows], 1)
    valid = np.isfinite(values)
    return np.where(valid, values, 0).sum(1) / np.maximum(valid.sum(1), 1)


def _sample_windows(datasets, shifts, grid):
    """[{factor: float64 (bands, rows, cols)}]: STAT_SAMPLES x STAT_SAMPLES small windows of every input spread
    over the output area, offsets added, NaN where no data; the scene statistics that standardise every tile
    alike, and the fill values of no-data pixels, come from them (reading the whole raster would cost a pass
    over a full tile)."""
    side = 8 * grid.block  # 10 m pixels; whole coarse pixels

    def starts(size):
        return sorted({min(size - min(side, size), round(i * size / STAT_SAMPLES) // grid.block * grid.block)
                       for i in range(STAT_SAMPLES)})

    windows = []
    for row in starts(grid.rows):
        for col in starts(grid.cols):
            window = {}
            for f, ds in datasets.items():
                data = read_window(ds, grid, f, (row, col, min(side, grid.rows), min(side, grid.cols)), COUNTS[f])
                window[f] = np.where(invalid(ds, data), np.nan, data + shifts[f]).astype(np.float64)
            windows.append(window)
    return windows


class Deviation:
    """Accumulates, per sharpened band of the output's `picked` bands, |mean of the output pixels in a measured pixel
    - measured value|."""

    def __init__(self, nets, picked):
        self.bands = tuple(b for b in sum((n.bands for n in nets.values()), ()) if b in picked)
        self.total = dict.fromkeys(self.bands, 0.0)
        self.count = dict.fromkeys(self.bands, 0)

    def add(self, net, sharp, windows, first, mask):
        """`sharp`: the output of `net` (N, bands, ...) over the 10 m pixels from `first` (row, col in `windows`) that
        `mask` (True: no data) covers."""
        valid_at = {f: _coarse_valid(mask, f) for f in set(map(pixel_factor, net.bands))}
        for name, band in zip(net.bands, sharp[0]):
            if name not in self.total:
                continue
            f = pixel_factor(name)
            valid = valid_at[f]
            rows, cols = valid.shape
            measured = windows[f][0, GROUPS[f].index(name), first[0] // f : first[0] // f + rows,
                                  first[1] // f : first[1] // f + cols]
            diff = np.abs(block_mean(band, f * net.per_10m) - measured)
            self.total[name] += float(diff[valid].sum())
            self.count[name] += int(valid.sum())

    def report(self):
        return " ".join("%s %.2f" % (b, self.total[b] / max(self.count[b], 1)) for b in self.bands)


def _open_mask(path, reference):
    """Open the no-data mask raster; it must lie on the 20 m raster's grid."""
    ds = open_input(path, 2, 1)
    if ds.GetGeoTransform() != reference.GetGeoTransform() or (ds.RasterXSize, ds.RasterYSize) != (
            reference.RasterXSize, reference.RasterYSize):
        raise InputError(tr("the no-data mask %s is not on the 20 m raster's grid") % path)
    return ds


def _read_tile(datasets, fills, shifts, mask_ds, grid, tile):
    """Read a tile of every input, offsets applied and no-data and NaN pixels filled; returns the arrays and the
    10 m mask (no-data in any band, or in the valid-mask raster)."""
    arrays, masks = {}, []
    for f, ds in datasets.items():
        data = read_window(ds, grid, f, tile, COUNTS[f])
        bad = invalid(ds, data)
        data += shifts[f]
        data[bad] = np.broadcast_to(fills[f][:, None, None], data.shape)[bad]
        arrays[f] = data
        masks.append(bad.any(axis=0).repeat(f, 0).repeat(f, 1))
    if mask_ds is not None:
        masks.append((read_window(mask_ds, grid, 2, tile, 1)[0] == 0).repeat(2, 0).repeat(2, 1))
    return arrays, np.logical_or.reduce(masks)


class BlockRunner:
    """Runs the networks block by block and writes each block's core; each network reads the block with the margin
    it needs (`margins`, per scale). On a GPU's out-of-memory error a block is split in four (with their own margins)
    and so are all later blocks of that size: the run goes on."""

    def __init__(self, nets, checks, stats, grid, margins, enforce, out, errors, log):
        self.nets, self.checks, self.stats, self.grid, self.margins = nets, checks, stats, grid, margins
        self.enforce, self.out, (self.errors, self.factors), self.log = enforce, out, errors, log
        self.k = next(iter(nets.values())).per_10m
        self.deviation = Deviation(nets, out.bands)
        self.max_side = None  # set by an out-of-memory error: the largest block side known to fit

    def finish(self):
        """Log and record how far the sharpened bands' block means are from the measured pixels."""
        report = self.deviation.report()
        self.log("mean |block mean of the sharpened band - measured pixel| (DN): " + report)
        self.out.ds.SetMetadataItem("S2SR_CONSISTENCY_MAD", report)

    def run(self, arrays, mask, tile, core):
        """Process one block (its core) cut from its tile's arrays."""
        if self.max_side and max(core[2:]) > self.max_side:
            parts = split(self.grid, core)
        else:
            try:
                return self._process(arrays, mask, tile, core)
            except OutOfMemory:
                parts = split(self.grid, core)
                if not parts:
                    raise InputError(tr("the GPU ran out of memory even on a block of %d x %d pixels: run on the "
                                        "CPU (DEVICE=cpu)") % (core[2], core[3])) from None
                self.max_side = max(max(c[2:]) for c in parts)
                self.log("CUDA out of memory on a block of %d x %d pixels: going on with blocks of at most %d"
                         % (core[2], core[3], self.max_side))
        for part in parts:
            self.run(arrays, mask, tile, part)

    def _process(self, arrays, mask, tile, core):
        k = self.k
        results = dict(zip(BANDS_10M, _cut(arrays[1], tile, core)))
        sharpened, expected, inputs = {}, {}, {}
        for scale, net in self.nets.items():  # all networks first: an out-of-memory error leaves no trace
            own = grow(self.grid, core, self.margins[scale])  # within the tile, read with the largest margin
            windows = {f: np.ascontiguousarray(_cut(a, tile, own, f)[None]) for f, a in arrays.items()}
            r0, c0 = core[0] - own[0], core[1] - own[1]
            crop = (slice(r0, r0 + core[2]), slice(c0, c0 + core[3]))
            stats = self.stats[scale]
            sharp, baselines = net(windows, stats), selfcheck.Baselines(net, windows, stats)
            if scale in self.checks:
                sharp = self.checks[scale].replace(sharp, baselines)
            if self.enforce:
                sharp = consistency.enforce_bands(sharp, net, windows)
            sharpened[scale] = sharp[..., r0 * k : (r0 + core[2]) * k, c0 * k : (c0 + core[3]) * k]
            inputs[scale] = windows, (r0, c0)
            if self.errors:
                methods = self.checks[scale].use if scale in self.checks else ("model",) * len(net.bands)
                expected[scale] = net.calibration.combine(sharp, methods, baselines.bicubic, baselines.hpf, stats,
                                                          self.factors[scale])[0, :, crop[0], crop[1]]
        mask = _cut(mask, tile, core)
        masked = mask.repeat(k, 0).repeat(k, 1)
        for scale, sharp in sharpened.items():
            self.deviation.add(self.nets[scale], sharp, *inputs[scale], mask)
            results.update(zip(self.nets[scale].bands, sharp[0]))
        for name in self.out.bands:
            self.out.write(name, core[0] * k, core[1] * k, results[name], masked)
        for scale, error in expected.items():
            for name, data in zip(self.nets[scale].bands, error):
                if name in self.errors.bands:
                    self.errors.write(name, core[0], core[1], data, mask)


def _cut(array, tile, window, factor=1):
    """The part over `window` (row, col, rows, cols in 10 m pixels) of a tile's array (..., rows, cols at `factor`
    times 10 m)."""
    top, left = window[0] - tile[0], window[1] - tile[1]
    return array[..., top // factor : (top + window[2]) // factor, left // factor : (left + window[3]) // factor]


def _coarse_valid(mask, factor):
    """True for coarse pixels none of whose 10 m pixels is masked."""
    rows, cols = mask.shape
    return ~mask.reshape(rows // factor, factor, cols // factor, factor).any(axis=(1, 3))
