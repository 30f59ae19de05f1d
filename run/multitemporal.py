"""Super-resolve a Sentinel-2 time series: several acquisitions of one place fused by the multi-frame network
(models.multiframe) into the reference acquisition's B2 B3 B4 B8 at twice its resolution (5 m from 10 m).

    python -m s2sr.run.multitemporal OUTPUT.tif INPUT... [--reference YYYY-MM-DD] [--frames 8] [--snow]
        [--extent XMIN YMIN XMAX YMAX]
    python -m s2sr.run.multitemporal FOLDER INPUT... --all-dates [--frames 8]     (every date as the reference)
    python -m s2sr.run.multitemporal REPORT.html INPUT... --evaluate [--csv scores.csv] [--extent ...]
        (the fusion scored on the series itself, beside the single image and classical baselines: evaluate_series)

An input is a product (.zip, .SAFE folder or its metadata file) or a raster of B2 B3 B4 B8 at 10 m whose file name
holds its date (YYYYMMDD). Every acquisition is brought onto the reference's 10 m grid (exactly, where it lies on
the same grid; else warped by cubic resampling, and the log says so). Pixels that are cloud, shadow, cirrus, no data
(and snow, where asked) never enter the fusion (core.clouds: the L2A scene classification, else a spectral test);
an acquisition clouded over more than MAX_CLOUDED of the area is left out, and so is one whose shift against the
reference (core.registration, phase correlation on B8) exceeds MAX_SHIFT pixels or whose correlation is weaker
than MIN_PEAK (it changed too much to be measured); the log and the output's metadata name each with the reason.
The reference's own unusable pixels are no data in the output. A self-check (`fusion_check`) scores the fusion on
the scene itself at twice the pixel size and keeps the reference alone where the fusion loses.
"""
import contextlib
import datetime
import logging
import os
import re
import uuid
from dataclasses import dataclass, replace

import numpy as np
from osgeo import gdal, osr

from ..core import cloud_detector, clouds, consistency
from ..core.bands import BANDS_10M
from ..core.degrade import degrade
from ..core.devices import select_precision
from ..core.fusion_baselines import registered_median, shift_and_add
from ..core.errors import Cancelled, InputError, tr
from ..core.gdal_calls import checked, remove_files
from ..core.grid import plan as plan_grid, source_of
from ..core.outputs import check_outputs
from ..core.product import METADATA_FILE, open_product
from ..core.raster import OutputRaster, band_offsets, bounded_gdal_cache, invalid, open_input
from ..core.registration import median_shift
from ..core.resample import bicubic
from ..core.version import plugin_version
from .. import models
from .evaluation import result
from .options import Options
from .reports import markdown, write_reports
from .selfcheck import pooled_sre

LOG = logging.getLogger(__name__)
MAX_CLOUDED = 0.6  # share of the area an acquisition may have unusable and still be used
MAX_SHIFT = 1.5  # pixels (10 m) an acquisition may lie from the reference, after its grid is matched
MIN_PEAK = 0.1  # weakest phase-correlation peak whose shift is trusted
SAMPLES = 6  # windows per side sampled for the statistics, the cloud cover and the shifts
SAMPLE_SIDE = 64  # pixels a side of those windows
BLOCK = 192  # 10 m pixels a side of the blocks the network runs on
SERIES_TITLE = "Super-resolution of a time series: the fusion on these acquisitions"  # its evaluation's reports
CHECK_SAMPLES, CHECK_SIDE = 3, 128  # the self-check's windows: per side, and their side in 10 m pixels
MAX_EVALUATED = 4_000_000  # 10 m pixels of the reference evaluated at once (every acquisition of them in memory)
MAX_UNSCORED = 0.02  # share of the reference's pixels that may be unusable in the area evaluated
DATE = re.compile(r"(20\d\d)(\d\d)(\d\d)")


@dataclass(frozen=True)
class SeriesOptions(Options):
    """Options of a run of the multi-frame network: those of run.options.Options that apply (extent, runtime, block)
    and `reference` (the date, YYYY-MM-DD, of the acquisition to super-resolve; empty: the latest usable one),
    `extent_crs` (the WKT of the extent's CRS; empty: the reference's),
    `frames` (the other acquisitions used at most, the nearest in time) and `snow` (snow is unusable too); with
    `consistency` every 2 x 2 block of the output averages to the reference's measured pixel (core.consistency)."""
    reference: str = ""
    extent_crs: str = ""
    frames: int = 8
    snow: bool = False
    block: int = BLOCK


@dataclass
class Acquisition:
    """One date of the series: its 10 m bands (a GDAL path of B2 B3 B4 B8), their DN offsets, the scene
    classification (L2A) or None, s2cloudless's bands (L1C, core.cloud_detector) or None, and its date."""
    path: str
    date: datetime.date
    stack: str
    offsets: dict
    scl: str = None
    cloud_bands: str = None

    @property
    def clouds_by(self):
        """What finds its unusable pixels: the scene classification, s2cloudless or the spectral test."""
        if self.scl:
            return "scene classification"
        return "s2cloudless" if self.cloud_bands and cloud_detector.available() else "spectral test"


def open_series(paths, folder):
    """The acquisitions of `paths`, sorted by date; InputError naming an input without a date or two of one date."""
    found = []
    for i, path in enumerate(paths):
        if _is_product(path):
            product = open_product(path, _product_folder(folder, i))
            when = product.metadata.get("S2SR_SENSING_TIME", "")
            found.append(Acquisition(path, _date(when.replace("-", "")[:8], path), product.stacks[1],
                                     product.offsets, product.valid_mask, product.cloud_bands))
        else:
            open_input(path, 1, 4)
            found.append(Acquisition(path, _date(os.path.basename(path), path), path, {}))
    dates = [a.date for a in found]
    twice = sorted({d for d in dates if dates.count(d) > 1})
    if twice:
        raise InputError(tr("two inputs are of the same date (%s): give each acquisition once")
                         % ", ".join(map(str, twice)))
    return sorted(found, key=lambda a: a.date)


def _product_folder(folder, i):
    """Where the VRTs of the i-th input's product go: a folder of its own beside `folder` (see remove_files)."""
    return "%s_%d" % (folder, i)


@contextlib.contextmanager
def _scratch(inputs):
    """A /vsimem folder for a run's VRTs over `inputs` acquisitions, emptied afterwards with its products' folders."""
    folder = "/vsimem/s2sr_series_%s" % uuid.uuid4().hex
    try:
        yield folder
    finally:
        remove_files(folder, *(_product_folder(folder, i) for i in range(inputs)))


def _is_product(path):
    """A product as downloaded (.zip), its .SAFE folder or its metadata file; else a raster of B2 B3 B4 B8."""
    name = os.path.basename(path.rstrip("/\\"))
    return os.path.isdir(path) or name.lower().endswith(".zip") or bool(METADATA_FILE.match(name))


def _date(text, path):
    match = DATE.search(text)
    try:
        return datetime.date(*map(int, match.groups()))
    except (AttributeError, ValueError):
        raise InputError(tr("cannot tell the date of %s: give a product, or put the date in the file name as "
                            "YYYYMMDD (e.g. T33UUU_20230514_B2348.tif)") % path) from None


class Frame:
    """An acquisition on the reference's grid: windows of its bands (offsets removed) and of its unusable pixels."""

    def __init__(self, acquisition, plan, folder, snow, log):
        self.acquisition, self.date, self.snow = acquisition, acquisition.date, snow
        self.ds = self._on_grid(acquisition.stack, plan, "%s/%s.vrt" % (folder, uuid.uuid4().hex), "cubic", log)
        self.scl = self._on_grid(acquisition.scl, plan, "%s/%s_scl.vrt" % (folder, uuid.uuid4().hex), "near",
                                 None) if acquisition.scl else None
        self.cloud_flags = None
        if acquisition.clouds_by == "s2cloudless":
            coarse = replace(plan, res=plan.res * cloud_detector.FACTOR, rows=-(-plan.rows // cloud_detector.FACTOR),
                             cols=-(-plan.cols // cloud_detector.FACTOR))
            bands = self._on_grid(acquisition.cloud_bands, coarse, "%s/%s_clouds.vrt" % (folder, uuid.uuid4().hex),
                                  "average", None)
            self.cloud_flags = cloud_detector.detect(
                lambda row, rows: checked(tr("cannot read %s") % acquisition.path, bands.ReadAsArray, 0, row,
                                          coarse.cols, rows), coarse.rows, acquisition.offsets)
        self.shift = self.stats = None

    def assess(self, windows, reference):
        """Read the sample `windows` (row, col, rows, cols): the share of the area unusable, the statistics per band
        and, against `reference` (a Frame; None for the reference itself), the shift. Returns why the acquisition
        cannot be used, or None."""
        self.samples = [self.read(w)[0] for w in windows]
        self.clouded = float(np.mean([np.isnan(s[0]).mean() for s in self.samples]))
        if self.clouded > MAX_CLOUDED:
            return tr("%.0f %% of the area unusable (cloud, shadow, no data)") % (100 * self.clouded)
        if reference is not None:
            self.shift = median_shift(np.concatenate(reference.samples, 2)[3:], np.concatenate(self.samples, 2)[3:],
                                      _strips(windows))
            if self.shift is None or self.shift.peak < MIN_PEAK:
                return tr("too different from the reference to measure its shift (correlation %.2f)") % (
                    self.shift.peak if self.shift else 0)
            if np.hypot(self.shift.rows, self.shift.cols) > MAX_SHIFT:
                return tr("shifted by %.2f, %.2f pixels against the reference (at most %g)") % (
                    self.shift.rows, self.shift.cols, MAX_SHIFT)
        values = np.concatenate([s.reshape(4, -1) for s in self.samples], 1)
        self.stats = np.stack([np.nanmean(values, 1), np.maximum(np.nanstd(values, 1), 1.0)]).astype(np.float32)
        return None

    def _on_grid(self, path, plan, vrt, resampling, log):
        ds = checked(tr("cannot read %s") % path, gdal.Open, path)
        source = source_of(ds, 1) if ds.GetGeoTransform() else None
        exact = source is not None and abs(source.res - plan.res) < 1e-6 * plan.res and all(
            abs(v - round(v)) < 1e-3 for v in ((source.x0 - plan.x0) / plan.res, (source.y0 - plan.y0) / plan.res)
        ) and osr.SpatialReference(wkt=source.wkt).IsSame(osr.SpatialReference(wkt=plan.wkt))
        if log and not exact:
            log(tr("%s is not on the reference's 10 m grid: warped onto it (cubic)") % self.acquisition.path)
        bounds = (plan.x0, plan.y0 - plan.rows * plan.res, plan.x0 + plan.cols * plan.res, plan.y0)
        return checked(tr("cannot bring %s onto the reference's grid") % path, gdal.Warp, vrt, ds, format="VRT",
                       dstSRS=plan.wkt, outputBounds=bounds, xRes=plan.res, yRes=plan.res,
                       resampleAlg="near" if exact else resampling, srcNodata=0, dstNodata=0)

    def read(self, window):
        """(bands (4, rows, cols) float32 DN with offsets removed, NaN where unusable; unusable (rows, cols))."""
        row, col, rows, cols = window
        data = checked(tr("cannot read %s") % self.acquisition.path, self.ds.ReadAsArray, col, row, cols, rows)
        data = np.asarray(data, np.float32).reshape(4, rows, cols)
        bad = invalid(self.ds, data).any(0)
        data = data + band_offsets(self.acquisition.offsets, 1)
        if self.scl is not None:
            bad |= clouds.scl_unusable(self.scl.ReadAsArray(col, row, cols, rows), self.snow)
        elif self.cloud_flags is not None:
            bad |= cloud_detector.on_fine_grid(self.cloud_flags, window)
        else:
            bad |= clouds.bright_white(np.where(np.isfinite(data), data, 0))
        return np.where(bad, np.nan, data), bad


@bounded_gdal_cache
def super_resolve_series(inputs, output, options=SeriesOptions(), progress=None, is_cancelled=None, log=LOG.info):
    """Write `output` (a GeoTIFF of B2 B3 B4 B8 at twice the resolution of the reference acquisition) from the
    acquisitions `inputs` (paths; see the module's docstring); returns the metadata items written."""
    check_outputs({"OUTPUT": output}, list(inputs), rasters=("OUTPUT",))
    if len(inputs) < 1:
        raise InputError(tr("give at least one acquisition"))
    with _scratch(len(inputs)) as folder:
        return _run(inputs, output, options, progress, is_cancelled, log, folder)


def super_resolve_dates(inputs, folder, options=SeriesOptions(), progress=None, is_cancelled=None, log=LOG.info):
    """Every acquisition of `inputs` as the reference in turn, with its nearest `options.frames` others (a rolling
    window over the series): <folder>/<date>.tif each. Returns {date: the output's metadata items}; an acquisition
    that cannot be the reference (clouded, say) is skipped, and the log says why."""
    check_outputs({"ALL_DATES": folder}, list(inputs))
    with _scratch(len(inputs)) as scratch:
        dates = [str(a.date) for a in open_series(inputs, scratch)]
    os.makedirs(folder, exist_ok=True)
    made = {}
    for i, date in enumerate(dates):
        def part(percent, i=i):
            if progress:
                progress((100.0 * i + percent) / len(dates))
        try:
            made[date] = super_resolve_series(inputs, os.path.join(folder, date + ".tif"),
                                              replace(options, reference=date), part, is_cancelled, log)
        except InputError as err:
            log(tr("no output for %s: %s") % (date, err))
    if not made:
        raise InputError(tr("no acquisition could be super-resolved: %s") % "; ".join(dates))
    return made


def _select(inputs, options, folder, log):
    """The acquisitions to fuse (see the module's docstring): (the network, the reference's plan over the extent, the
    Frames, the reference first, the reasons the others were left out, the self-check's verdict)."""
    series = open_series(inputs, folder)
    if any(a.cloud_bands and a.clouds_by == "spectral test" for a in series):
        log(tr("s2cloudless is not installed: the clouds of the L1C products are found by the spectral test, which "
               "misses thin cloud and cirrus (install it: pip install s2cloudless)"))
    order = _by_preference(series, options.reference)
    net = models.load_multiframe(options.folders(), "cpu", select_precision(options.runtime.precision, "cpu"))
    reference_ds = open_input(order[0].stack, 1, 4)
    plan = plan_grid({1: source_of(reference_ds, 1)}, _extent(options, reference_ds.GetProjection()))
    windows = _sample_windows(plan)
    frames, dropped = [], []
    for acquisition in order:
        if len(frames) == 1 + options.frames:
            break
        frame = Frame(acquisition, plan, folder, options.snow, log)
        why = frame.assess(windows, frames[0] if frames else None)
        if why:
            dropped.append("%s: %s" % (acquisition.date, why))
            log(tr("left out %s (%s): %s") % (acquisition.path, acquisition.date, why))
            if not frames and options.reference:
                raise InputError(tr("the reference acquisition of %s cannot be used: %s") % (acquisition.date, why))
            continue
        if frame.clouded > 0.01:
            log(tr("%s (%s): %.0f %% of the area unusable (cloud, shadow, no data), kept out pixel by pixel")
                % (acquisition.path, acquisition.date, 100 * frame.clouded))
        frames.append(frame)
    if not frames:
        raise InputError(tr("no acquisition is usable over this area (%s): choose another area or other dates")
                         % "; ".join(dropped))
    check = "off"
    if options.self_check and len(frames) > 1:
        fused, alone = fusion_check(net, [_window_stack(frames, w) for w in _sample_windows(plan, CHECK_SAMPLES,
                                                                                            CHECK_SIDE)])
        check = tr("Wald protocol on the scene: %d acquisitions fused %.2f dB, the reference alone %.2f dB") % (
            len(frames), fused, alone)
        log(tr("self-check (%s)") % check)
        if fused < alone:
            why = tr("the self-check found the fusion worse than the reference alone (the other acquisitions changed, "
                     "or hold clouds the masks missed)")
            dropped += ["%s: %s" % (f.date, why) for f in frames[1:]]
            log(tr("left out every other acquisition: %s; the reference alone is super-resolved") % why)
            frames = frames[:1]
    return net, plan, frames, dropped, check


def _run(inputs, output, options, progress, is_cancelled, log, folder):
    net, plan, frames, dropped, check = _select(inputs, options, folder, log)
    reference = frames[0]
    shifts = " ".join("%s:%+.2f,%+.2f(%.2f)" % (f.date, f.shift.rows, f.shift.cols, f.shift.peak) for f in frames[1:])
    log(tr("reference %s; %d other acquisition(s): %s") % (reference.date, len(frames) - 1, shifts or "none"))
    out_plan = replace(plan, res=plan.res / net.per_10m, rows=plan.rows * net.per_10m, cols=plan.cols * net.per_10m)
    metadata = {
        "S2SR_VERSION": plugin_version(), "S2SR_MODEL": models.MULTIFRAME, "S2SR_MODEL_VERSION": net.version,
        "S2SR_REFERENCE_DATE": str(reference.date), "S2SR_REFERENCE": reference.acquisition.path,
        "S2SR_RESOLUTION": "%g" % out_plan.res,
        "S2SR_FRAMES": " ".join(str(f.date) for f in frames),
        "S2SR_CLOUD_MASKS": " | ".join("%s: %s" % (f.date, f.acquisition.clouds_by) for f in frames),
        "S2SR_SHIFTS": shifts or "none (one acquisition)", "S2SR_DROPPED": " | ".join(dropped) or "none",
        "S2SR_SELF_CHECK": check, "S2SR_CONSISTENCY": "enforced" if options.consistency else "off",
        "S2SR_PROCESSED": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    out = OutputRaster(output, out_plan, BANDS_10M, reference.ds.GetRasterBand(1).DataType, 0, metadata,
                       reference.acquisition.offsets, options.block * net.per_10m)
    shifts, stats = (a[None] for a in _shifts_and_stats(frames))
    try:
        cores = _cores(plan.rows, plan.cols, options.block)
        for done, core in enumerate(cores, 1):
            if is_cancelled and is_cancelled():
                raise Cancelled()
            _run_block(net, frames, stats, shifts, (plan.rows, plan.cols), core, out, options.consistency)
            if progress:
                progress(100.0 * done / len(cores))
        out.commit()
    except BaseException:
        out.discard()
        raise
    return metadata


def _cores(rows, cols, block):
    """The blocks (row, col, rows, cols) of `block` pixels a side that tile rows x cols pixels."""
    return [(r, c, min(block, rows - r), min(block, cols - c)) for r in range(0, rows, block)
            for c in range(0, cols, block)]


def _run_block(net, frames, stats, shifts, size, core, out, tied=False):
    """Read one block with the network's margin from every frame (its `read`), fuse, write its core at the output's
    pixel (`out.write`); size: (rows, cols) of the frames; tied: every block of k x k output pixels made to average
    to the reference's measured pixel (core.consistency)."""
    row, col, rows, cols = core
    m = net.margin + (consistency.reach(1) if tied else 0)
    r0, c0 = max(0, row - m), max(0, col - m)
    window = (r0, c0, min(size[0], row + rows + m) - r0, min(size[1], col + cols + m) - c0)
    read = [f.read(window) for f in frames]
    data = np.stack([d for d, _ in read])
    usable = ~np.stack([bad for _, bad in read])[:, None]
    means = stats[0, :, 0, :, None, None]
    filled = np.where(np.isnan(data), means, data)  # the masks keep them out; the reference's show through bicubic
    result = net(filled[None], usable[None].astype(np.float32), stats, shifts)[0]
    k = net.per_10m
    if tied:
        result = consistency.enforce(result[None], filled[:1], k)[0]
    top, left = k * (row - r0), k * (col - c0)
    result = result[:, top : top + k * rows, left : left + k * cols]
    lost = read[0][1][row - r0 : row - r0 + rows, col - c0 : col - c0 + cols].repeat(k, 0).repeat(k, 1)
    for name, band in zip(BANDS_10M, result):
        out.write(name, k * row, k * col, band, lost)


def _extent(options, wkt):
    """The options' extent in the CRS `wkt` (the reference's)."""
    if not options.extent or not options.extent_crs:
        return options.extent
    given, target = osr.SpatialReference(wkt=options.extent_crs), osr.SpatialReference(wkt=wkt)
    for srs in (given, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return osr.CoordinateTransformation(given, target).TransformBounds(*options.extent, 21)


def _window_stack(frames, window):
    """(data (T, 4, rows, cols) with NaN where unusable, shifts (T, 2), stats (T, 2, 4)) of the frames over a window."""
    return (np.stack([f.read(window)[0] for f in frames]),) + _shifts_and_stats(frames)


def _shifts_and_stats(frames):
    """The frames' measured shifts (T, 2; the reference's 0) and statistics (T, 2, 4), as the network takes them."""
    shifts = np.array([(f.shift.rows, f.shift.cols) if f.shift else (0.0, 0.0) for f in frames], np.float32)
    return shifts, np.stack([f.stats for f in frames])


def fusion_check(net, stacks):
    """The self-check of a fusion by the Wald protocol on the scene itself: every frame of each stack (`_window_stack`'s
    (data, shifts, stats)) degraded to twice its pixel, restored by the network with all the frames and with the
    reference alone, each compared with the reference's measured pixels. Returns the SRE (dB, errors pooled over the
    windows, mean over the bands) of the fusion and of the reference alone; windows whose reference has unusable
    pixels are left out (both -inf where none is left)."""
    def restored(data, shifts, stats):
        low = degraded(data, stats)
        return {name: _restore(net, low[:k], stats[:k], shifts[:k] / 2, max(low.shape[-2:]))
                for name, k in (("fused", len(data)), ("alone", 1))}

    cut = [(data[..., : data.shape[-2] // 2 * 2, : data.shape[-1] // 2 * 2], shifts, stats)
           for data, shifts, stats in stacks]
    usable = [stack for stack in cut if not np.isnan(stack[0][0]).any()]
    if not usable:
        return float("-inf"), float("-inf")
    sre = pooled_sre(((slice(None), stack[0][0], restored(*stack)) for stack in usable), 4, ("fused", "alone"))
    return float(np.mean(sre["fused"])), float(np.mean(sre["alone"]))


def degraded(data, stats):
    """Frames (T, 4, rows, cols; NaN where unusable; rows and cols even) degraded by the Wald protocol to twice their
    pixel (core.degrade), NaN where any of a pixel's four was unusable."""
    usable = ~np.isnan(data).any(1, keepdims=True)
    low = degrade(np.where(usable, data, stats[:, 0, :, None, None]), 2)
    rows, cols = data.shape[-2:]
    return np.where(usable.reshape(len(data), 1, rows // 2, 2, cols // 2, 2).all((3, 5)), low, np.nan)


@bounded_gdal_cache
def evaluate_series(inputs, options=SeriesOptions(), log=LOG.info):
    """The fusion scored by the Wald protocol on the series itself, over the options' extent: every acquisition
    chosen as s2sr:multitemporal chooses them (its self-check aside) degraded to twice its pixel, restored by the
    network with all of them ("model") and with the reference alone ("single"), beside bicubic upsampling of the
    reference, the registered median and shift-and-add (core.fusion_baselines), each against the reference's
    measured pixels. Returns run.evaluation's results ({label: result}, for run.reports)."""
    with _scratch(len(inputs)) as folder:
        net, plan, frames, _, _ = _select(inputs, replace(options, self_check=False), folder, log)
        if plan.rows * plan.cols > MAX_EVALUATED:
            raise InputError(tr("the area to evaluate has %d x %d pixels at 10 m; at most %d million can be "
                                "evaluated at once: choose a smaller EXTENT") % (plan.cols, plan.rows,
                                                                              MAX_EVALUATED // 10**6))
        data, shifts, stats = _window_stack(frames, (0, 0, plan.rows // 2 * 2, plan.cols // 2 * 2))
    unusable = np.isnan(data[0]).any(0)
    if unusable.mean() > MAX_UNSCORED:
        raise InputError(tr("%.1f %% of the reference's pixels in the area to evaluate are unusable (cloud, shadow, "
                            "no data): choose an EXTENT where the reference is clear") % (100 * unusable.mean()))
    low, shifts = degraded(data, stats), shifts / 2
    log(tr("Evaluating the fusion of %d acquisition(s) on %d x %d pixels at 10 m (degraded to 20 m)")
        % (len(frames), plan.cols, plan.rows))
    guesses = {name: _restore(net, low[:k], stats[:k], shifts[:k], options.block)
               for name, k in (("model", len(low)), ("single", 1))}
    reference = np.where(np.isnan(low[:1]), stats[:1, 0, :, None, None], low[:1]).astype(np.float32)
    guesses.update(bicubic=bicubic(reference, 2)[0], median=registered_median(low, shifts, stats, 2),
                   shift_add=shift_and_add(low, shifts, stats, 2))
    if unusable.any():  # the reference's unusable pixels: no truth there, every method scored as exact
        log(tr("%.2f %% of the reference's pixels are unusable (cloud, shadow, no data): every method is scored as "
               "exact there") % (100 * unusable.mean()))
        guesses = {m: np.where(unusable, guesses["bicubic"], g) for m, g in guesses.items()}
    truth = np.where(unusable, guesses["bicubic"], data[0])
    label = tr("time series, %d acquisitions, 20 m -> 10 m") % len(frames)
    return {label: result(list(BANDS_10M), truth, guesses, 1, net.version, band_check=False)}


def _restore(net, low, stats, shifts, block):
    """The network on whole frames (T, 4, rows, cols; NaN where unusable), block by block as the run reads them
    (`_run_block`): (4, 2 rows, 2 cols)."""
    class Frames:
        def __init__(self, data):
            self.data = data

        def read(self, window):
            r, c, h, w = window
            part = self.data[:, r : r + h, c : c + w]
            return part, np.isnan(part).any(0)

    class Sink:
        def __init__(self, k, shape):
            self.bands = np.zeros((4, k * shape[0], k * shape[1]), np.float32)

        def write(self, name, row, col, band, lost):
            self.bands[BANDS_10M.index(name), row : row + band.shape[0], col : col + band.shape[1]] = band

    size = low.shape[-2:]
    sink = Sink(net.per_10m, size)
    for core in _cores(*size, block):
        _run_block(net, [Frames(d) for d in low], stats[None], shifts[None], size, core, sink)
    return sink.bands


def _by_preference(series, reference):
    """The acquisitions in the order they are tried: the reference (the one of that date, else the latest) first,
    then the others by their distance in time from it."""
    if reference:
        chosen = [a for a in series if str(a.date) == reference]
        if not chosen:
            raise InputError(tr("no acquisition is of the reference date %s; the dates given are %s")
                             % (reference, ", ".join(str(a.date) for a in series)))
        first = chosen[0]
        return [first] + sorted((a for a in series if a is not first), key=lambda a: abs((a.date - first.date).days))
    latest = series[::-1]
    # without a reference every acquisition may become it, latest first; the others follow by distance from it
    return [latest[0]] + sorted(latest[1:], key=lambda a: abs((a.date - latest[0].date).days))


def _sample_windows(plan, samples=SAMPLES, side=SAMPLE_SIDE):
    """samples x samples windows (row, col, rows, cols) of `side` pixels spread over the plan."""
    side = min(side, plan.rows, plan.cols)

    def starts(size):
        return sorted({round(i * (size - side) / max(samples - 1, 1)) for i in range(samples)})

    return [(r, c, side, side) for r in starts(plan.rows) for c in starts(plan.cols)]


def _strips(windows):
    """The windows as they lie side by side in the arrays `np.concatenate(samples, 2)` makes."""
    return [(0, i * w[3], w[2], w[3]) for i, w in enumerate(windows)]


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(prog="python -m s2sr.run.multitemporal", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output")
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--reference", default="", help="the date (YYYY-MM-DD) to super-resolve (default: the latest "
                        "usable one)")
    parser.add_argument("--frames", type=int, default=8, help="other acquisitions to use at most (default 8)")
    parser.add_argument("--snow", action="store_true", help="snow is unusable too")
    parser.add_argument("--consistency", action="store_true", help="every 2 x 2 block of the output averages to the "
                        "reference's measured pixel")
    parser.add_argument("--extent", nargs=4, type=float, metavar=("XMIN", "YMIN", "XMAX", "YMAX"))
    parser.add_argument("--all-dates", action="store_true", help="OUTPUT is a folder: every acquisition as the "
                        "reference in turn, <date>.tif each")
    parser.add_argument("--evaluate", action="store_true", help="OUTPUT is an HTML report: the fusion scored on the "
                        "series by the Wald protocol (printed as Markdown too)")
    parser.add_argument("--csv", help="with --evaluate, also the scores as CSV")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    options = SeriesOptions(extent=tuple(args.extent) if args.extent else None, reference=args.reference,
                            frames=args.frames, snow=args.snow, consistency=args.consistency)
    try:
        if args.evaluate:
            check_outputs({"OUTPUT": args.output, "--csv": args.csv}, args.inputs)
            results = evaluate_series(args.inputs, options)
            print(markdown(results))
            write_reports(results, SERIES_TITLE, args.output, args.csv)
        elif args.all_dates:
            super_resolve_dates(args.inputs, args.output, options)
        else:
            super_resolve_series(args.inputs, args.output, options)
    except InputError as err:
        parser.exit(2, "error: %s\n" % err)


if __name__ == "__main__":
    main()
