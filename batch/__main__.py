"""Super-resolve many Sentinel-2 inputs on Dask distributed, one output GeoTIFF per input.

    python -m s2sr.batch INPUT... --out DIR [--scheduler tcp://host:8786] [--workers N] [options]

An INPUT is a product (.SAFE folder, .zip, or its MTD_MSIL1C/2A.xml), a folder holding one scene's single-band
files (as the BANDS parameter takes them), or a .txt file listing such inputs, one a line. Each gives
DIR/<input name>.tif with the same content and metadata as `s2sr:superresolve` with the same options. Without
--scheduler the inputs run on an embedded local cluster sized to this machine; with it, on the workers of an
existing Dask cluster (they need the plugin and its dependencies: README, "Batch"). An input whose output is
complete for the same input and options is skipped, so a stopped batch resumes where it was; DIR/batch_report.json
lists every input with its status, seconds, worker and error. Exit status 0 only if every input succeeded.
"""
import argparse
import dataclasses
import sys

from .runner import Progress, local_cluster, run_batch
from ..core.bands import S2_ORDER
from ..core.devices import BACKENDS, DEVICES, PRECISIONS, Runtime
from ..core.errors import InputError
from .. import models
from ..models.cards import is_card
from ..run.options import Options


def band_list(text):
    """--bands: Sentinel-2 band names separated by commas."""
    bands = tuple(b.strip().upper() for b in text.split(",") if b.strip())
    unknown = [b for b in bands if b not in S2_ORDER]
    if unknown or not bands:
        raise argparse.ArgumentTypeError("%s: give band names among %s, separated by commas"
                                         % (" ".join(unknown) or "no band", ",".join(S2_ORDER)))
    return bands


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m s2sr.batch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", metavar="INPUT")
    parser.add_argument("--out", required=True, help="folder of the outputs and of batch_report.json")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler (default: a local cluster)")
    parser.add_argument("--workers", type=int, default=0, help="workers of the local cluster (0: sized to this "
                        "machine, one per core as memory allows)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads of one run (0: the local cluster's "
                        "cores per worker; on a cluster the backend's default, all cores of the worker's machine)")
    parser.add_argument("--targets", nargs="+", choices=("20m", "60m"), default=(),
                        help="bands to sharpen (default: 20m, and 60m where the input has them)")
    parser.add_argument("--bands", type=band_list, default=(), help="the bands to write, e.g. B11,B12 (default: as "
                        "--targets and --no-10m choose)")
    parser.add_argument("--model", default="", help="a model's name or a model card (.yaml) (default: the plugin's)")
    parser.add_argument("--models-dir", action="append", default=[], help="a folder of models (repeatable)")
    parser.add_argument("--extent", nargs=4, type=float, metavar=("XMIN", "YMIN", "XMAX", "YMAX"),
                        help="the area, in the 10 m bands' CRS")
    parser.add_argument("--no-10m", dest="include_10m", action="store_false", help="leave the 10 m bands out")
    parser.add_argument("--consistency", action="store_true", help="enforce consistency with the measured pixels")
    parser.add_argument("--no-self-check", dest="self_check", action="store_false")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto")
    parser.add_argument("--backend", choices=BACKENDS, default="auto")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--tile-size", type=int, default=0)
    parser.add_argument("--adapt", type=float, default=0, metavar="SECONDS",
                        help="fine-tune the networks on each scene first for this long (0: off; an adapted network is "
                             "used only where a held-out part of the scene scores better)")
    parser.add_argument("--flips", action="store_true", help="average each network over the 8 flips and rotations "
                        "of the input (8 times slower, about 0.15 dB better)")
    return parser, parser.parse_args(argv)


def main(argv=None):
    from distributed import Client

    from .inputs import expand

    parser, args = parse(argv)
    options = Options(targets=tuple(args.targets), bands=args.bands, model=args.model,
                      model_dirs=tuple(args.models_dir), extent=tuple(args.extent or ()) or None,
                      include_10m=args.include_10m, consistency=args.consistency, self_check=args.self_check,
                      runtime=Runtime(args.device, args.precision, args.backend, args.threads, args.flips),
                      tile_size=args.tile_size, adapt=args.adapt)
    paths = expand(args.inputs)
    if not is_card(args.model):
        try:  # the name, before any cluster starts: an unknown one is named with the installed models
            models.resolve(args.model, options.folders())
        except InputError as err:
            parser.exit(2, "error: --model: %s\n" % err)
    cluster = None
    if args.scheduler:
        try:
            client = Client(args.scheduler, timeout=30)
        except OSError as err:
            parser.exit(2, "error: cannot reach the Dask scheduler at %s (%s): start it first (README, Batch)\n"
                        % (args.scheduler, err))
    else:
        cluster, threads = local_cluster(args.workers)
        client = Client(cluster)
        options = dataclasses.replace(options, runtime=dataclasses.replace(options.runtime,
                                                                           threads=args.threads or threads))
    progress = Progress(len(paths))
    try:
        report = run_batch(client, paths, args.out, options, progress)
    except InputError as err:
        parser.exit(2, "error: %s\n" % err)
    finally:
        progress.close()
        client.close()
        if cluster is not None:
            cluster.close()
    counts = report["counts"]
    print("%d done, %d skipped, %d failed in %.1f s on %s; report: %s/batch_report.json" % (
        counts["done"], counts["skipped"], counts["failed"], report["seconds"], ", ".join(report["workers"]) or "-",
        args.out), file=sys.stderr)
    return 0 if counts["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
