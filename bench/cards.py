"""A model from a model card scored beside the plugin's own 2x network: every check-set scene and OSCD test scene,
by the Wald protocol at the card's factor (every input band degraded by it, each band compared with the measured
band at its own pixel size; run.selfcheck.card_sre), the card's model beside bicubic upsampling; for its 20 m
bands, on the same degraded inputs, also HPF pan-sharpening and the plugin's 2x network (the same protocol at 2x).
Prints Markdown for docs/benchmarks.md.

    python bench/cards.py ../shared/models/evoland/carn_light.yaml
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "plugins"))
from s2sr import models  # noqa: E402
from s2sr.core.bands import BANDS_10M, BANDS_20M  # noqa: E402
from s2sr.run.selfcheck import card_sre  # noqa: E402
from s2sr.models.cards import CardNetwork, read_card  # noqa: E402
from s2sr.training import checkset  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("card")
    parser.add_argument("--model", default="dsen2_oscd")
    args = parser.parse_args()
    card = read_card(args.card)
    net, ours = CardNetwork(card), models.load_network(models.weights_path(args.model, 2))
    mid = [b for b in card.bands if b in BANDS_20M]
    fine = [b for b in card.bands if b in BANDS_10M]
    head = ["set", "scene", "level"] + ["%s: bicubic / HPF / %s / card" % (b, args.model) for b in mid] + [
        "20 m bands, mean: bicubic / HPF / %s / card" % args.model, "card - %s (dB)" % args.model,
        "10 m bands (%s), mean: bicubic / card" % " ".join(fine)]
    print("%s (factor %d, %s) beside %s 2x, SRE in dB\n" % (card.name, card.factor, card.licence, args.model))
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    sets = {"check set": checkset.check_scenes(), "OSCD test": checkset.oscd_test_scenes()}
    for label, scenes in sets.items():
        margins = []
        for name, (level, scene) in scenes.items():
            cell = 2 * card.factor
            rows, cols = (n - n % cell for n in scene[1].shape[1:])
            cut = {f: scene[f][:, : rows // f, : cols // f] for f in (1, 2)}
            sre = card_sre(net, [cut])
            theirs = {b: sre["model"][card.bands.index(b)] for b in card.bands}
            cubic = {b: sre["bicubic"][card.bands.index(b)] for b in card.bands}
            row = checkset.score_scenes(ours, {name: (level, scene)}, gains=(1.0,))[0]
            per = {b: (cubic[b], row["hpf"][BANDS_20M.index(b)], row["model"][BANDS_20M.index(b)], theirs[b])
                   for b in mid}
            means = np.mean([per[b] for b in mid], 0)
            margins.append(means[3] - means[2])
            print("| " + " | ".join([label, name, level] + ["%.2f / %.2f / %.2f / %.2f" % per[b] for b in mid] + [
                "%.2f / %.2f / %.2f / %.2f" % tuple(means), "%+.2f" % margins[-1],
                "%.2f / %.2f" % (np.mean([cubic[b] for b in fine]), np.mean([theirs[b] for b in fine]))]) + " |",
                flush=True)
        print("| %s | **mean card - %s over %d scenes: %+.2f dB; lowest %+.2f** |" % (
            label, args.model, len(margins), np.mean(margins), min(margins)) + " |" * (len(head) - 2))


if __name__ == "__main__":
    main()
