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


#: the reference-free measures at the scene's own scale (run.evaluation.own_scale): key, heading, format
OWN_METRICS = (("rise", "edge rise 10-90 % (m)", "%.1f"), ("overshoot", "overshoot (%)", "%.1f"),
               ("spectral", "spectral consistency (dB)", "%.2f"), ("detail", "detail explained (R&sup2;)", "%.3f"))


def rows(results):
    """Flat table rows: scale (the result's label), band ('mean' for the band average, SAM only there), method,
    metric values; where the result has them, the reference-free measures (`own_values`; None elsewhere)."""
    out = []
    for label, r in results.items():
        for i, band in enumerate(r["bands"] + ["mean"]):
            for method in methods(r):
                s = r["scores"][method]
                values = {k: float(np.mean(s[k]) if band == "mean" else s[k][i]) for k, _, _ in ROW_METRICS}
                values["sam"] = s["sam"] if band == "mean" else None
                values.update(own_values(r.get("own_scale"), method, None if band == "mean" else i))
                out.append(dict(scale=label, band=band, method=method, **values))
    return out


def own_values(own, method, band=None):
    """{measure: value} of one method for one band (index) or the band mean (None): the edge rise in metres, the
    overshoot in per cent, the spectral consistency, the share of detail explained; "pan_rise" the pan band's rise
    (the 10 m reference) and "edges" how many edges were measured. None where not measured."""
    keys = [k for k, _, _ in OWN_METRICS] + ["pan_rise", "edges"]
    if not own or method not in own["spectral"]:
        return dict.fromkeys(keys)
    picks = range(len(own["edges"])) if band is None else [band]
    edges = [own["edges"][i] for i in picks]
    per_band = {"rise": [10 * e["rise"][method] for e in edges],
                "overshoot": [100 * e["overshoot"][method] for e in edges],
                "spectral": [own["spectral"][method][i] for i in picks],
                "detail": [own["detail"][method][i] for i in picks],
                "pan_rise": [10 * e["rise"]["pan"] for e in edges]}
    values = {k: float(np.nanmean(v)) if np.isfinite(v).any() else None for k, v in per_band.items()}
    return dict(values, edges=int(sum(e["edges"] for e in edges)))


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
        if r.get("own_scale"):
            head = ["band", "method"] + [name.replace("&sup2;", "^2") for _, name, _ in OWN_METRICS] + [
                "pan edge rise (m)", "edges"]
            out += ["%s at the scene's own scale (no reference)\n" % label, "| " + " | ".join(head) + " |",
                    "|" + "---|" * len(head)]
            for row in table:
                if row["scale"] == label and row["edges"] is not None:
                    out.append("| %s | %s | %s | %s | %d |" % (row["band"], METHOD_NAMES[row["method"]], " | ".join(
                        "-" if row[k] is None else fmt % row[k] for k, _, fmt in OWN_METRICS),
                        "-" if row["pan_rise"] is None else "%.1f" % row["pan_rise"], row["edges"]))
            out.append("")
    return "\n".join(out)


def write_csv(results, path):
    keys = ["scale", "band", "method"] + [k for k, _, _ in ROW_METRICS] + ["sam"] + [k for k, _, _ in OWN_METRICS] + [
        "pan_rise", "edges"]
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
        if r.get("own_scale"):
            parts += own_scale_html(label, r, table)
    parts.append("</body></html>")
    write_text(path, "\n".join(parts))


PLOT_COLOURS = {"bicubic": "#888", "hpf": "#1f77b4", "model": "#d62728", "pan": "#000"}


def own_scale_html(label, r, table):
    """The HTML section of the reference-free measures of one result: a table and, per band, the mean edge profiles."""
    own = r["own_scale"]
    parts = ["<h4>%s at the scene's own scale, without a reference</h4><p>Measured on %d pixels at 10 m (the area's "
             "centre), the output compared with nothing finer: <b>edge rise</b>, the 10-90 %% width of the band's "
             "mean profile across straight, high-contrast edges of its pan band (the 10 m bands fitted to it; the pan "
             "band's own rise, the last column, is what a 10 m band shows; smaller is sharper) and the "
             "<b>overshoot</b> "
             "beyond the far level; <b>spectral consistency</b>, the output degraded back to the band's pixel size "
             "against the measured band (SRE, larger is closer); <b>detail explained</b>, the share of the detail "
             "added to bicubic upsampling that a linear fit on the 10 m bands' own detail explains (HPF adds nothing "
             "else: 1).</p>" % (html.escape(label), own["pixels"]),
             "<table><tr><th>band</th><th>method</th>%s<th>pan edge rise (m)</th><th>edges</th></tr>"
             % "".join("<th>%s</th>" % name for _, name, _ in OWN_METRICS)]
    for row in table:
        if row["scale"] == label and row["edges"] is not None:
            parts.append("<tr><td>%s</td><td>%s</td>%s<td>%s</td><td>%d</td></tr>" % (
                row["band"], METHOD_NAMES[row["method"]], "".join(
                    "<td>%s</td>" % ("-" if row[k] is None else fmt % row[k]) for k, _, fmt in OWN_METRICS),
                "-" if row["pan_rise"] is None else "%.1f" % row["pan_rise"], row["edges"]))
    parts.append("</table><p>Mean edge profiles (0: the measured band's level on the dark side, 1: on the bright "
                 "side; offsets in metres): %s.</p><p>" % ", ".join(
                     "<span style='color:%s'>%s</span>" % (c, METHOD_NAMES.get(m, "pan band (10 m)"))
                     for m, c in PLOT_COLOURS.items()))
    parts += [edge_plot(band, e) for band, e in zip(r["bands"], own["edges"])]
    return parts + ["</p>"]


def edge_plot(band, edges, width=220, height=140):
    """An inline SVG of one band's mean edge profiles (core.reference_free.edge_spread's result)."""
    x, pad = 10 * edges["offsets"], 18
    lo, hi = -0.2, 1.2

    def point(u, v):
        return "%.1f,%.1f" % (pad + (u - x[0]) / (x[-1] - x[0]) * (width - 2 * pad),
                              height - pad - (np.clip(v, lo, hi) - lo) / (hi - lo) * (height - 2 * pad))
    lines = ["<polyline fill='none' stroke='%s' stroke-width='1.5'%s points='%s'/>" % (
        colour, " stroke-dasharray='4 3'" if m == "pan" else "",
        " ".join(point(u, v) for u, v in zip(x, edges["profiles"][m])))
        for m, colour in PLOT_COLOURS.items() if m in edges["profiles"] and np.isfinite(edges["profiles"][m]).all()]
    axes = "".join("<line x1='%d' x2='%d' y1='%s' y2='%s' stroke='#ddd'/>" % (
        pad, width - pad, point(0, v).split(",")[1], point(0, v).split(",")[1]) for v in (0, 1))
    return ("<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' style='margin:4px;border:1px solid #eee'>"
            "%s%s<text x='%d' y='13' font-size='11'>%s (%d edges)</text><text x='%d' y='%d' font-size='9'>%+.0f m"
            "</text><text x='%d' y='%d' font-size='9' text-anchor='end'>%+.0f m</text></svg>" % (
                width, height, axes, "".join(lines), pad, html.escape(band), edges["edges"], pad, height - 4, x[0],
                width - pad, height - 4, x[-1]))


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
