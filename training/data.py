"""Reduced-scale training pairs (Wald protocol) from OSCD, packed as uint16 arrays."""
import glob
import os

import numpy as np
from osgeo import gdal

from ..core.bands import BANDS_10M, BANDS_20M, BANDS_60M, file_band_name
from ..core.degrade import coarser, wald_pair

DEFAULT_OSCD = os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "shared", "data", "oscd")


def oscd_root():
    """The OSCD folder: $S2SR_OSCD, else ../shared/data/oscd beside the repository."""
    return os.path.abspath(os.environ.get("S2SR_OSCD", DEFAULT_OSCD))


def oscd_sites(split, root=None):
    """Site names of the 'train' or 'test' split."""
    with open(os.path.join(root or oscd_root(), split + ".txt")) as f:
        return [s.strip() for s in f.read().split(",") if s.strip()]


def read_scene(folder):
    """{1: 10 m, 2: 20 m, 6: 60 m} float32 arrays (bands, rows, cols) of one OSCD date folder."""
    def stack(bands):
        paths = [glob.glob(os.path.join(folder, "*_%s.tif" % file_band_name(b)))[0] for b in bands]
        return np.stack([gdal.Open(p).ReadAsArray().astype(np.float32) for p in paths])
    return {1: stack(BANDS_10M), 2: stack(BANDS_20M), 6: stack(BANDS_60M)}


def to_uint16(pair):
    return {k: np.clip(np.rint(v), 0, 65535).astype(np.uint16) for k, v in pair.items()}


def pack(out_dir, root=None, octaves=0, scales=(2, 6)):
    """Write <out_dir>/<scale>x/<split>/<site>_<date>.npz for the scales, both splits and dates.

    octaves > 0: every scene is first made 2**octaves times coarser (the scale-invariance check: e.g. 80 -> 40 m
    pairs for the 2x network).
    """
    root = root or oscd_root()
    for split in ("train", "test"):
        for site in oscd_sites(split, root):
            for date in (1, 2):
                scene = coarser(read_scene(os.path.join(root, site, "imgs_%d" % date)), 2 ** octaves)
                for scale in scales:
                    folder = os.path.join(out_dir, "%dx" % scale, split)
                    os.makedirs(folder, exist_ok=True)
                    np.savez(os.path.join(folder, "%s_%d.npz" % (site, date)), **to_uint16(wald_pair(scene, scale)))
            print("packed", split, site, flush=True)


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
    args = parser.parse_args()
    pack(args.out, octaves=args.octaves, scales=args.scales)
