"""Quality at the scene's own scale, without a reference (core.reference_free, what s2sr:evaluate reports beside the
Wald protocol), on the check set: per scene and method the edge rise across straight edges (10 m pixels; the pan
band's own rise is the 10 m reference), the spectral consistency with the measured bands (dB) and the share of the
added detail that the 10 m bands explain (R^2), each the mean over the bands; beside the Wald protocol's SRE, and
whether each measure ranks the three methods as the Wald protocol does. Prints Markdown for docs/benchmarks.md.

    python bench/own_scale.py [--model NAME]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "plugins"))
from s2sr import models  # noqa: E402
from s2sr.run import evaluation  # noqa: E402
from s2sr.training import checkset  # noqa: E402

METHODS = ("bicubic", "hpf", "model")


def measures(r):
    """{measure: {method: mean over bands}} of one result, each oriented so that larger is better."""
    own = r["own_scale"]
    with np.errstate(invalid="ignore"):
        rise = {m: np.nanmean([e["rise"][m] for e in own["edges"]]) if any(np.isfinite(e["rise"][m])
                                                                            for e in own["edges"]) else np.nan
                for m in METHODS + ("pan",)}
    return {"wald": {m: np.mean(r["scores"][m]["sre"]) for m in METHODS}, "rise": rise,
            "spectral": {m: np.mean(own["spectral"][m]) for m in METHODS},
            "detail": {m: np.mean(own["detail"][m]) for m in ("hpf", "model")},
            "edges": int(np.sum([e["edges"] for e in own["edges"]]))}


def order(values, larger_better=True):
    """The methods from best to worst."""
    return sorted(values, key=lambda m: -values[m] if larger_better else values[m])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="dsen2_oscd")
    args = parser.parse_args()
    rows = {2: [], 6: []}
    opened = {}
    for name, (level, scene) in checkset.check_scenes().items():
        start = time.time()
        with_60m = checkset.fits(scene, 6)
        if not checkset.fits(scene, 2):
            continue
        if with_60m not in opened:
            opened[with_60m] = evaluation.open_for_evaluation(args.model, with_60m, (models.MODELS_DIR,), print)
        for label, r in evaluation.evaluate_scene(scene, opened[with_60m]).items():
            rows[int(label[0])].append((name, level, measures(r)))
        print("%s: %.0f s" % (name, time.time() - start), file=sys.stderr, flush=True)
    for scale, found in rows.items():
        if not found:
            continue
        print("\n#### %dx: %d scenes\n" % (scale, len(found)))
        print("| scene | level | Wald SRE bicubic / HPF / model (dB) | edge rise bicubic / HPF / model (pan) | "
              "spectral consistency bicubic / HPF / model (dB) | detail explained HPF / model | edges | "
              "order by Wald | "
              "rise agrees | spectral agrees |")
        print("|" + "---|" * 10)
        agree, counted = {"rise": 0, "spectral": 0}, {"rise": 0, "spectral": 0}
        for name, level, m in found:
            wald = order(m["wald"])
            by = {"rise": order({k: m["rise"][k] for k in METHODS}, larger_better=False),
                  "spectral": order(m["spectral"])}
            for k in agree:
                if k == "spectral" or np.isfinite(m["rise"]["model"]):
                    agree[k] += by[k] == wald
                    counted[k] += 1
            print("| %s | %s | %s | %s (%.2f) | %s | %s | %d | %s | %s | %s |" % (
                name, level, " / ".join("%.2f" % m["wald"][k] for k in METHODS),
                " / ".join("%.2f" % m["rise"][k] for k in METHODS), m["rise"]["pan"],
                " / ".join("%.2f" % m["spectral"][k] for k in METHODS),
                " / ".join("%.3f" % m["detail"][k] for k in ("hpf", "model")), m["edges"], " > ".join(wald),
                ("yes" if by["rise"] == wald else "no: " + " > ".join(by["rise"])) if np.isfinite(m["rise"]["model"])
                else "too few edges",
                "yes" if by["spectral"] == wald else "no: " + " > ".join(by["spectral"])))
        means = {key: {k: np.nanmean([m[key][k] for _, _, m in found]) for k in found[0][2][key]}
                 for key in ("wald", "rise", "spectral", "detail")}
        print("| **mean** | | %s | %s (%.2f) | %s | %s | | | %d of %d | %d of %d |" % (
            " / ".join("%.2f" % means["wald"][k] for k in METHODS),
            " / ".join("%.2f" % means["rise"][k] for k in METHODS),
            means["rise"]["pan"], " / ".join("%.2f" % means["spectral"][k] for k in METHODS),
            " / ".join("%.3f" % means["detail"][k] for k in ("hpf", "model")), agree["rise"], counted["rise"],
            agree["spectral"], counted["spectral"]))


if __name__ == "__main__":
    main()
