"""Quality of a model on the user's own scene, by the Wald protocol: degrade the measured bands by the model's
scale, super-resolve them, and compare with the measured bands, beside bicubic upsampling and a classical
pan-sharpening baseline; and, for the plugin's networks, at the scene's own scale where no reference exists: each
band's edge rise across straight edges, its spectral consistency with the measured band and how much of its added
detail the 10 m bands explain (core.reference_free).

    python -m s2sr.run.evaluation 10m.tif 20m.tif [--input-60m 60m.tif] [--model NAME | --model CARD.yaml]
        [--csv scores.csv] [--html report.html]

prints the scores as Markdown tables (the reports: run.reports).
"""
import logging

from ..core.bands import GROUPS
from ..core.devices import Runtime
from ..core.errors import InputError, tr
from ..core import reference_free
from ..core.metrics import psnr, scores, ssim
from ..core.outputs import check_outputs
from ..core.raster import band_offsets, bounded_gdal_cache, invalid, open_scene, read_window
from .. import models
from .opened import open_model
from .reports import markdown, write_reports

LOG = logging.getLogger(__name__)
MAX_PIXELS = 16_000_000  # 10 m pixels evaluated at once (in memory): a 4 x 4 km area or a little more
OWN_SCALE_PIXELS = 4_000_000  # 10 m pixels that the reference-free measures super-resolve (the area's centre)


@bounded_gdal_cache
def read_scene(input_10m, input_20m, input_60m=None, extent=None, offsets=None):
    """{1, 2, 6: float32 (bands, rows, cols)} over the common grid (and extent), offsets applied; the plan."""
    datasets, grid = open_scene(input_10m, input_20m, input_60m, extent)
    if grid.rows * grid.cols > MAX_PIXELS:
        raise InputError(tr("the area to evaluate has %d x %d pixels at 10 m; at most %d million can be evaluated "
                            "at once: choose a smaller EXTENT") % (grid.cols, grid.rows, MAX_PIXELS // 10**6))
    scene = {}
    for f, ds in datasets.items():
        names = GROUPS[f]
        data = read_window(ds, grid, f, (0, 0, grid.rows, grid.cols), len(names))
        if invalid(ds, data).any():
            raise InputError(tr("the area to evaluate holds no-data pixels in the %d m bands: choose an EXTENT "
                                "inside the swath, with valid data in every band") % (10 * f))
        scene[f] = data + band_offsets(offsets, f)
    return scene, grid


def evaluate_scene(scene, model):
    """{label: result} of a model opened for the run (run.opened.open_model) on one scene ({1, 2, 6: arrays},
    `read_scene`): per scale ("2x", "6x"), or for the model of a card per pixel size of its bands ("2x card, 10 m
    bands" ...): the bands, the truth, each method's estimate and scores (with PSNR and SSIM), the truth's pixel
    size (`factor`, in 10 m pixels) and the model's version; for the plugin's networks also "own_scale", the
    reference-free measures at the scene's own scale (`own_scale`)."""
    results = {label: result(bands, truth, guesses, factor, net.version, net.check_shift)
               for label, bands, truth, guesses, factor, net in model.wald_estimates(scene)}
    central = centre(scene)
    for label, bands, guesses, measured, factor, pans in model.own_scale_estimates(central):
        results[label]["own_scale"] = own_scale(central[1], guesses, measured, factor, pans)
    return results


def centre(scene, pixels=OWN_SCALE_PIXELS):
    """The scene ({1, 2, 6: arrays}) cut to its central `pixels` 10 m pixels or fewer, on whole 60 m cells."""
    rows, cols = scene[1].shape[1:]
    if rows * cols <= pixels:
        return scene
    h = min(rows, int(pixels ** 0.5)) // 6 * 6
    w = min(cols, pixels // h) // 6 * 6
    r0, c0 = (rows - h) // 12 * 6, (cols - w) // 12 * 6
    return {f: a[:, r0 // f : (r0 + h) // f, c0 // f : (c0 + w) // f] for f, a in scene.items()}


def own_scale(hi, guesses, measured, factor, pans):
    """The reference-free measures (core.reference_free) of every method's estimate ({method: (bands, H, W) at 10 m})
    of the measured bands (`factor` 10 m pixels), with their pan bands `pans` and the 10 m bands `hi`: {"pixels": the
    10 m pixels measured, "edges": per band core.reference_free.edge_spread's result, "spectral" and "detail": {method:
    per band SRE (dB) / R^2}}."""
    return {"pixels": hi.shape[1] * hi.shape[2],
            "edges": [reference_free.edge_spread(pans[i], {m: g[i] for m, g in guesses.items()},
                                                 guesses["bicubic"][i], factor) for i in range(len(measured))],
            "spectral": {m: reference_free.spectral_consistency(g, measured, factor) for m, g in guesses.items()},
            "detail": reference_free.explained_detail(guesses, guesses["bicubic"], hi, factor)}


def open_for_evaluation(model, input_60m, folders, log, backend="auto"):
    """`model` (a name, a card's path or a models.cards.Card) opened as the evaluation runs it: on the CPU in
    float32, its 2x network, and its 6x network where the 60 m bands are given (`input_60m`)."""
    return open_model(model, ("20m", "60m") if input_60m else ("20m",), input_60m,
                      Runtime("cpu", "float32", backend), folders, log)


def result(bands, truth, guesses, factor, version, shift=None, band_check=True):
    """What `evaluate_scene` gives for one network; `shift`: the core.fits.ScaleShift of its self-check;
    `band_check`: whether s2sr:superresolve's self-check chooses per band between the guesses (the report says what
    it would choose; a time series' self-check chooses between the fusion and the reference alone instead)."""
    return {"bands": list(bands), "truth": truth, "estimates": guesses, "factor": factor, "version": version,
            "shift": shift, "band_check": band_check,
            "scores": {m: dict(scores(truth, e), psnr=psnr(truth, e), ssim=ssim(truth, e)) for m, e in guesses.items()}}


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input_10m")
    parser.add_argument("input_20m")
    parser.add_argument("--input-60m")
    parser.add_argument("--model", default=None, help="a plugin model's name, or a model card (.yaml)")
    parser.add_argument("--extent", nargs=4, type=float, metavar=("XMIN", "YMIN", "XMAX", "YMAX"))
    parser.add_argument("--csv")
    parser.add_argument("--html")
    args = parser.parse_args(argv)
    try:
        check_outputs({"--csv": args.csv, "--html": args.html}, (args.input_10m, args.input_20m, args.input_60m))
        scene, grid = read_scene(args.input_10m, args.input_20m, args.input_60m, args.extent)
        model = open_for_evaluation(args.model, args.input_60m, (models.MODELS_DIR,), LOG.info)
        results = evaluate_scene(scene, model)
    except InputError as err:
        parser.exit(2, "error: %s\n" % err)
    print(markdown(results))
    write_reports(results, "Super-resolution quality of %s" % model.name, args.html, args.csv)


if __name__ == "__main__":
    main()
