"""Quality of a model on the user's own scene, by the Wald protocol: degrade the measured bands by the model's
scale, super-resolve them, and compare with the measured bands, beside bicubic upsampling and a classical
pan-sharpening baseline.

    python -m s2sr.run.evaluation 10m.tif 20m.tif [--input-60m 60m.tif] [--model NAME | --model CARD.yaml]
        [--csv scores.csv] [--html report.html]

prints the scores as Markdown tables (the reports: run.reports).
"""
from ..core.bands import GROUPS
from ..core.degrade import wald_pair
from ..core.devices import select_backend
from ..core.errors import InputError, tr
from ..core.metrics import psnr, scores, ssim
from ..core.outputs import check_outputs
from ..core.raster import band_offsets, bounded_gdal_cache, invalid, open_scene, read_window
from .. import models
from ..models.cards import CARD_EXTENSIONS, Card, CardNetwork, read_card
from .estimates import card_estimates, estimates
from .reports import markdown, write_csv, write_html

MAX_PIXELS = 16_000_000  # 10 m pixels evaluated at once (in memory): a 4 x 4 km area or a little more


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


def evaluate_scene(scene, scales, model, model_dirs=(models.MODELS_DIR,), device="cpu", backend="auto"):
    """{label: result} per scale ("2x", "6x"), or for the model of a card (a models.cards.Card) per pixel size of its
    bands ("2x card, 10 m bands" ...): the bands, the truth, each method's estimate and scores (with PSNR and SSIM),
    the truth's pixel size (`factor`, in 10 m pixels) and the model's version; the networks run by `backend`
    (core.devices.select_backend)."""
    if isinstance(model, Card):
        net = CardNetwork(model)
        return {"%dx card, %d m bands" % (model.factor, 10 * f): result(bands, truth, guesses, f, net.version)
                for f, (bands, truth, guesses) in card_estimates(net, scene, check_size=True).items()}
    results, backend = {}, select_backend(backend)
    for scale in scales:
        pair = wald_pair(scene, scale)
        if min(pair["target"].shape[1:]) < 4 * scale:
            raise InputError(tr("the area is too small to evaluate the %dx model: choose a larger EXTENT") % scale)
        net = models.load_network(models.weights_path(model, scale, model_dirs), device, backend)
        results["%dx" % scale] = result(GROUPS[scale], pair["target"], estimates(net, pair), scale, net.version,
                                        net.check_shift)
    return results


def result(bands, truth, guesses, factor, version, shift=None):
    """What `evaluate_scene` gives for one network; `shift`: the core.fits.ScaleShift of its self-check."""
    return {"bands": list(bands), "truth": truth, "estimates": guesses, "factor": factor, "version": version,
            "shift": shift,
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
        model = read_card(args.model) if (args.model or "").lower().endswith(CARD_EXTENSIONS) else models.resolve(
            args.model)
        results = evaluate_scene(scene, (2, 6) if args.input_60m else (2,), model)
    except InputError as err:
        parser.exit(2, "error: %s\n" % err)
    print(markdown(results))
    if args.csv:
        write_csv(results, args.csv)
    if args.html:
        write_html(results, args.html, "Super-resolution quality of %s" % getattr(model, "name", model))


if __name__ == "__main__":
    main()
