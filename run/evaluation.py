"""Quality of a model on the user's own scene, by the Wald protocol: degrade the measured bands by the model's
scale, super-resolve them, and compare with the measured bands, beside bicubic upsampling and a classical
pan-sharpening baseline.

    python -m s2sr.run.evaluation 10m.tif 20m.tif [--input-60m 60m.tif] [--model NAME | --model CARD.yaml]
        [--csv scores.csv] [--html report.html]

prints the scores as Markdown tables.
"""
import csv
import dataclasses
import html
import io

import numpy as np
from osgeo import gdal

from ..core.bands import GROUPS
from ..core.degrade import wald_pair
from ..core.devices import select_backend
from ..core.errors import InputError, tr
from ..core.metrics import psnr, scores, ssim
from ..core.outputs import check_outputs, write_text
from ..core.raster import OutputRaster, band_offsets, bounded_gdal_cache, invalid, open_scene, read_window
from .. import models
from ..models.cards import CARD_EXTENSIONS, Card, CardNetwork, read_card
from . import selfcheck
from .estimates import card_estimates, estimates

MAX_PIXELS = 16_000_000  # 10 m pixels evaluated at once (in memory): a 4 x 4 km area or a little more
METHODS = ("model", "bicubic", "hpf")
METHOD_NAMES = {"model": "model", "bicubic": "bicubic", "hpf": "HPF pan-sharpening"}


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


ROW_METRICS = (("rmse", "RMSE (DN)", "%.1f"), ("sre", "SRE (dB)", "%.2f"), ("psnr", "PSNR (dB)", "%.2f"),
               ("uiq", "UIQ", "%.4f"), ("ssim", "SSIM", "%.4f"))


def rows(results):
    """Flat table rows: scale (the result's label), band ('mean' for the band average, SAM only there), method,
    metric values."""
    out = []
    for label, r in results.items():
        for i, band in enumerate(r["bands"] + ["mean"]):
            for method in methods(r):
                s = r["scores"][method]
                values = {k: float(np.mean(s[k]) if band == "mean" else s[k][i]) for k, _, _ in ROW_METRICS}
                values["sam"] = s["sam"] if band == "mean" else None
                out.append(dict(scale=label, band=band, method=method, **values))
    return out


def methods(result):
    """The methods a result scores, in METHODS order (a card's model has no HPF)."""
    return [m for m in METHODS if m in result["scores"]]


def markdown(results):
    """Per result, a Markdown table: one row per band and the mean, RMSE / SRE / SSIM of every method."""
    table, out = rows(results), []
    metrics = [m for m in ROW_METRICS if m[0] in ("rmse", "sre", "ssim")]
    for label, r in results.items():
        head = ["band"] + ["%s %s" % (name, METHOD_NAMES[m]) for _, name, _ in metrics for m in methods(r)]
        out += ["%s (%s)\n" % (label, r["version"]), "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for band in r["bands"] + ["mean"]:
            by = {row["method"]: row for row in table if row["scale"] == label and row["band"] == band}
            out.append("| " + " | ".join([band] + [fmt % by[m][k] for k, _, fmt in metrics for m in methods(r)])
                       + " |")
        out.append("\nSAM (degrees): " + ", ".join("%s %.3f" % (METHOD_NAMES[m], r["scores"][m]["sam"])
                                                   for m in methods(r)) + "\n")
    return "\n".join(out)


def write_csv(results, path):
    keys = ["scale", "band", "method"] + [k for k, _, _ in ROW_METRICS] + ["sam"]
    text = io.StringIO()
    table = csv.writer(text, lineterminator="\n")
    table.writerow(keys)
    table.writerows([["" if row[k] is None else row[k] if isinstance(row[k], str) else "%.6g" % row[k] for k in keys]
                     for row in rows(results)])
    write_text(path, text.getvalue())


def write_html(results, path, title):
    """A self-contained HTML report (QGIS's Processing results viewer shows it)."""
    parts = ["<html><head><meta charset='utf-8'><title>%s</title><style>body{font-family:sans-serif}"
             "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}"
             "th{background:#eee}.best{font-weight:bold}</style></head><body><h2>%s</h2>"
             % (html.escape(title), html.escape(title)),
             "<p>Wald protocol: the bands were degraded by the model's scale (Gaussian blur of sigma = 1/scale "
             "pixels, then block mean), super-resolved, and compared with the measured bands. Bold: the best "
             "method. HPF (for the plugin's networks): high-pass-filter pan-sharpening with a pan band fitted to each band from "
             "the 10 m bands.</p>"]
    table = rows(results)
    for label, r in results.items():
        gain = np.mean(r["scores"]["model"]["sre"]) - np.mean(r["scores"]["bicubic"]["sre"])
        parts.append("<h3>%s: %s (model %s)</h3><p>Mean SRE gain over bicubic: <b>%+.2f dB</b>. SAM: %s.</p>"
                     % (html.escape(label), " ".join(r["bands"]), html.escape(r["version"]), gain, ", ".join(
                         "%s %.3f&deg;" % (METHOD_NAMES[m], r["scores"][m]["sam"]) for m in methods(r))))
        use = selfcheck.verdicts({m: r["scores"][m]["sre"] for m in methods(r)}, r["shift"])
        verdict = ", ".join("%s: %s" % (band, METHOD_NAMES[m]) for band, m in zip(r["bands"], use))
        parts.append("<p>What the self-check of <i>Super-resolve Sentinel-2</i> uses per band, deciding the same way "
                     "on windows of the area%s: %s.</p>" % (
                         ", the network's leads corrected by the scale shift fitted for it" if r["shift"] else "",
                         verdict))
        parts.append("<table><tr><th>band</th><th>method</th>%s</tr>"
                     % "".join("<th>%s</th>" % label for _, label, _ in ROW_METRICS))
        for band in r["bands"] + ["mean"]:
            group = [row for row in table if row["scale"] == label and row["band"] == band]
            best = {k: (min if k == "rmse" else max)(row[k] for row in group) for k, _, _ in ROW_METRICS}
            for row in group:
                cells = "".join("<td class='%s'>%s</td>" % ("best" if row[k] == best[k] else "", fmt % row[k])
                                for k, _, fmt in ROW_METRICS)
                parts.append("<tr><td>%s</td><td>%s</td>%s</tr>" % (band, METHOD_NAMES[row["method"]], cells))
        parts.append("</table>")
    parts.append("</body></html>")
    write_text(path, "\n".join(parts))


def write_errors(result, grid, path):
    """|model - measured| per band, Float32 GeoTIFF on the measured bands' grid (written as the pipeline's
    output is: under a temporary name, renamed when complete)."""
    error = np.abs(result["estimates"]["model"] - result["truth"]).astype(np.float32)
    coarse = dataclasses.replace(grid, res=grid.res * result["factor"], cols=error.shape[2], rows=error.shape[1])
    names = ["|error| %s" % band for band in result["bands"]]
    out = OutputRaster(path, coarse, names, gdal.GDT_Float32, None, {})
    try:
        for name, band in zip(names, error):
            out.write(name, 0, 0, band, np.zeros(band.shape, bool))
        out.commit()
    except BaseException:
        out.discard()
        raise


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
