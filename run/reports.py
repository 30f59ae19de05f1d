"""The evaluation's reports: Markdown tables, a CSV of every score, a self-contained HTML page (for QGIS's Processing
results viewer) and per-band absolute-error GeoTIFFs, from `run.evaluation.evaluate_scene`'s results."""
import csv
import dataclasses
import html
import io

import numpy as np
from osgeo import gdal

from ..core.outputs import write_text
from ..core.raster import OutputRaster
from . import selfcheck

METHODS = ("model", "single", "bicubic", "hpf", "median", "shift_add")
METHOD_NAMES = {"model": "model", "single": "the network on the reference alone", "bicubic": "bicubic",
                "hpf": "HPF pan-sharpening", "median": "registered median", "shift_add": "shift-and-add"}
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
    """The methods a result scores, in METHODS order (a card's model has no HPF; a time series' fusion has the single
    image and the multi-frame baselines instead)."""
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


def summary(results):
    """One line per result and method, for a log: the band mean's SRE, RMSE and SAM."""
    return ["%s %-10s SRE %6.2f dB  RMSE %7.1f  SAM %.3f" % (row["scale"], row["method"], row["sre"], row["rmse"],
                                                            row["sam"])
            for row in rows(results) if row["band"] == "mean"]


def write_reports(results, title, html_path=None, csv_path=None):
    """The HTML report (titled `title`) and the CSV of `results`, each where its path is given."""
    if html_path:
        write_html(results, html_path, title)
    if csv_path:
        write_csv(results, csv_path)


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
        if r["band_check"]:
            use = selfcheck.verdicts({m: r["scores"][m]["sre"] for m in methods(r)}, r["shift"])
            verdict = ", ".join("%s: %s" % (band, METHOD_NAMES[m]) for band, m in zip(r["bands"], use))
            parts.append("<p>What the self-check of <i>Super-resolve Sentinel-2</i> uses per band, deciding the same "
                         "way on windows of the area%s: %s.</p>" % (
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
