"""Reduced-scale scores of a network and of bicubic upsampling on packed Wald pairs."""
import numpy as np

from ..core.bands import GROUPS
from ..run.estimates import estimates
from ..core.metrics import scores
from .data import resampling_repeats


def evaluate(net, pairs, consistent=False, pixels="all"):
    """Mean over scenes of per-band RMSE, SRE, UIQ and of SAM, for the model (a models.network.Network), for bicubic
    and for HPF pan-sharpening. pixels "measured": only the target pixels that a resampling did not repeat
    (`training.data.resampling_repeats`; OSCD's labels), as one row of pixels per band."""
    result = summarize(net.scale, [(pair, estimates(net, pair, consistent)) for pair in pairs.values()], pixels)
    return dict(result, names=sorted(pairs))


def summarize(scale, scenes, pixels="all"):
    """`evaluate`'s result from [(pair, {method: estimate})]: estimates made once can be scored on all pixels and
    on the measured ones."""
    per_scene = {"model": [], "bicubic": [], "hpf": []}
    for pair, guesses in scenes:
        select = measured(pair["target"]) if pixels == "measured" else (lambda bands: bands)
        for method, estimate in guesses.items():
            per_scene[method].append(scores(select(pair["target"]), select(estimate)))
    result = {"bands": list(GROUPS[scale]), "scenes": len(scenes), "pixels": pixels}
    for method, rows in per_scene.items():
        result[method] = {k: np.mean([r[k] for r in rows], axis=0).tolist() for k in rows[0]}
    return result


def measured(target):
    """A function that keeps, of arrays (bands, rows, cols) on the target's grid, the pixels that a resampling did
    not repeat in the target, as one row of pixels per band (the metrics average over rows and columns)."""
    keep = ~resampling_repeats(target)
    return lambda bands: bands[:, keep][:, None]


def table(result):
    """Markdown table: one row per band and a mean row; bicubic, HPF pan-sharpening (when scored) and model."""
    methods = [m for m in ("bicubic", "hpf", "model") if m in result]
    names = {"bicubic": "bicubic", "hpf": "HPF", "model": "model"}
    head = ["band"] + ["RMSE %s" % names[m] for m in methods] + ["SRE %s (dB)" % names[m] for m in methods] + [
        "gain over bicubic (dB)"] + ["UIQ %s" % names[m] for m in methods]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, band in enumerate(result["bands"] + ["mean"]):
        pick = (lambda v: float(np.mean(v))) if band == "mean" else (lambda v: v[i])
        cells = ["%.1f" % pick(result[m]["rmse"]) for m in methods] + [
            "%.2f" % pick(result[m]["sre"]) for m in methods] + [
            "%+.2f" % (pick(result["model"]["sre"]) - pick(result["bicubic"]["sre"]))] + [
            "%.4f" % pick(result[m]["uiq"]) for m in methods]
        lines.append("| " + " | ".join([band] + cells) + " |")
    lines.append("")
    lines.append("SAM: " + ", ".join("%s %.3f deg" % (names[m], result[m]["sam"]) for m in methods)
                 + " (mean over scenes).")
    return "\n".join(lines)


def sre_gain(result, bands=None):
    """Model SRE minus bicubic SRE, averaged over the bands (names; default: all scored) (dB)."""
    pick = [i for i, b in enumerate(result["bands"]) if bands is None or b in bands]
    return float(np.mean(np.array(result["model"]["sre"])[pick] - np.array(result["bicubic"]["sre"])[pick]))
