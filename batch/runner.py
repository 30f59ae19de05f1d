"""Hand the inputs of a batch to Dask distributed and gather the report. Dask does the scheduling: a task whose
worker dies is run again on another one (an output is renamed into place only when whole, so the dead worker
leaves no partial output, and its temporary file is removed at the end), and an input that fails is reported
without stopping the others."""
import dataclasses
import datetime
import json
import os
import shutil
import sys
import time
import uuid

from . import inputs, jobs
from ..core.errors import InputError, tr
from ..core.outputs import remove_stale, write_text

REPORT = "batch_report.json"
#: memory one run may need at most (run.pipeline bounds it: about 1.4 GB on a full tile, docs/benchmarks.md)
RUN_MEMORY = 3 * 2**30
#: where the embedded cluster's scheduler and workers listen: this machine only (a cluster of several machines is
#: started by the user and given as --scheduler)
LOOPBACK = "127.0.0.1"


def local_cluster(workers=0):
    """An embedded LocalCluster on the loopback interface: `workers` processes (0: `default_workers`), one run at a
    time each, sharing the cores; returns (cluster, threads per run)."""
    from distributed import LocalCluster

    cores = os.cpu_count() or 1
    workers = workers or default_workers(cores, _memory())
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host=LOOPBACK,
                           dashboard_address=None, memory_limit=_memory() // workers)
    return cluster, max(1, cores // workers)


def default_workers(cores, memory):
    """One single-threaded worker per core (on 2 cores 27 % more inputs per hour than one worker of two threads:
    docs/benchmarks.md), at least one, at most what the memory holds at RUN_MEMORY each."""
    return max(1, min(cores, memory // RUN_MEMORY))


def _memory():
    import psutil

    return psutil.virtual_memory().total


def run_batch(client, paths, out_dir, options, progress=None):
    """Run every input on the cluster of `client`; writes and returns the report (a dict). progress(row, counts)
    is called as each input ends."""
    os.makedirs(out_dir, exist_ok=True)
    names = {}
    for path in paths:
        output = jobs.output_path(path, out_dir)
        if output in names:
            raise InputError(tr("the inputs %s and %s would both write %s: rename one") % (names[output], path, output))
        names[output] = path
    from distributed import as_completed

    start, rows, batch = time.time(), {}, uuid.uuid4().hex[:8]  # keys unique also beside other batches
    futures = {client.submit(jobs.run, path, out_dir, options, pure=False, key="s2sr-%s-%s-%d" % (
        inputs.name(path), batch, i)): path for i, path in enumerate(paths)}
    counts = dict.fromkeys(("done", "skipped", "failed"), 0)
    report = dict(started=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  scheduler=client.scheduler.address, out=out_dir, options=dataclasses.asdict(options), inputs=[])
    for future in as_completed(futures):
        path = futures[future]
        try:
            row = future.result()
        except Exception as err:  # e.g. KilledWorker: the input took down every worker that tried it
            row = dict(input=path, output=jobs.output_path(path, out_dir), worker=None, status="failed", seconds=None,
                       error="%s: %s" % (type(err).__name__, err))
        rows[path] = row
        counts[row["status"]] += 1
        report.update(inputs=[rows[p] for p in paths if p in rows], counts=counts,
                      seconds=round(time.time() - start, 1))
        write_text(os.path.join(out_dir, REPORT), json.dumps(report, indent=2))
        if progress:
            progress(row, counts)
    client.run(remove_stale, out_dir)  # the temporary files of dead workers, on every worker's machine
    remove_stale(out_dir)
    report["workers"] = sorted({r["worker"] for r in rows.values() if r["worker"] is not None})
    write_text(os.path.join(out_dir, REPORT), json.dumps(report, indent=2))
    return report


class Progress:
    """A progress bar with the counts and the ETA on a terminal (tqdm), plain lines otherwise."""

    def __init__(self, total, stream=sys.stderr):
        self.stream, self.total, self.bar = stream, total, None
        if stream.isatty():
            from tqdm import tqdm

            # the size as shutil reads it: a terminal that reports none (0 x 0) gets 80 x 24, not a hidden bar
            size = shutil.get_terminal_size()
            self.bar = tqdm(total=total, unit="input", file=stream, ncols=size.columns, nrows=size.lines)

    def __call__(self, row, counts):
        if self.bar is not None:
            self.bar.set_postfix(counts, refresh=False)
            self.bar.update(1)
            if row["status"] == "failed":
                self.bar.write("failed: %s: %s" % (row["input"], row["error"]))
            return
        done = sum(counts.values())
        line = "[%d/%d] %s %s" % (done, self.total, row["status"], row["input"])
        if row["status"] == "failed":
            line += ": " + row["error"]
        elif row["worker"] is not None:
            line += " (%.1f s on %s)" % (row["seconds"], row["worker"])
        print(line, file=self.stream, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
