"""Reduced-scale scores of a network and of bicubic upsampling on packed Wald pairs."""
import numpy as np

from ..core.bands import BANDS_20M, BANDS_60M
from ..core.evaluation import hpf, predict
from ..core.metrics import scores


def evaluate(net, pairs, consistent=False):
    """Mean over scenes of per-band RMSE, SRE, UIQ and of SAM, for the model, for bicubic and for HPF
    pan-sharpening."""
    net.eval()
    per_scene = {"model": [], "bicubic": [], "hpf": []}
    for pair in pairs.values():
        model, cubic = predict(net, pair, consistent)
        per_scene["model"].append(scores(pair["target"], model))
        per_scene["bicubic"].append(scores(pair["target"], cubic))
        per_scene["hpf"].append(scores(pair["target"], hpf(pair["hi"], pair["mid" if net.scale == 2 else "lo"],
                                                            net.scale)))
    bands = BANDS_20M if net.scale == 2 else BANDS_60M
    result = {"bands": list(bands), "scenes": len(pairs)}
    for method, rows in per_scene.items():
        result[method] = {k: np.mean([r[k] for r in rows], axis=0).tolist() for k in rows[0]}
    return result


def table(result):
    """Markdown table: one row per band and a mean row, model beside bicubic."""
    m, b = result["model"], result["bicubic"]
    lines = [
        "| band | RMSE bicubic | RMSE model | SRE bicubic (dB) | SRE model (dB) | gain (dB) | UIQ bicubic "
        "| UIQ model |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, band in enumerate(result["bands"] + ["mean"]):
        pick = (lambda v: float(np.mean(v))) if band == "mean" else (lambda v: v[i])
        lines.append("| %s | %.1f | %.1f | %.2f | %.2f | %+.2f | %.4f | %.4f |" % (
            band, pick(b["rmse"]), pick(m["rmse"]), pick(b["sre"]), pick(m["sre"]),
            pick(m["sre"]) - pick(b["sre"]), pick(b["uiq"]), pick(m["uiq"])))
    lines.append("")
    lines.append("SAM: bicubic %.3f deg, model %.3f deg (mean over scenes)." % (b["sam"], m["sam"]))
    return "\n".join(lines)


def sre_gain(result):
    """Model SRE minus bicubic SRE, averaged over bands (dB)."""
    return float(np.mean(result["model"]["sre"]) - np.mean(result["bicubic"]["sre"]))
