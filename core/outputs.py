"""What a run writes, kept safe: an output that would overwrite one of the files the inputs read is refused
before any work, raster outputs are GeoTIFF, and every file is written under a temporary name that records
the writing process, renamed only when complete, so that the next run into the same folder removes what a
run killed outright (a crash, the OOM killer, kill -9) left behind."""
import html
import os
import re
import socket
import tempfile

from .errors import InputError, tr
from .gdal_calls import opened

RASTER_EXTENSIONS = (".tif", ".tiff")
PREFIX = ".s2sr-"
#: .s2sr-<host>-<pid>-<random><suffix>: a temporary file of a run of this plugin
TEMPORARY = re.compile(r"^\.s2sr-(?P<host>[A-Za-z0-9_.]*)-(?P<pid>\d+)-")
#: a VRT's sources (a regular expression: product VRTs embed XML declarations in their metadata)
SOURCE = re.compile(r"<SourceFilename([^>]*)>([^<]*)</SourceFilename>")
RELATIVE = re.compile(r"relativeToVRT\s*=\s*[\"']1[\"']")
ARCHIVE = re.compile(r"^/vsi(?:zip|tar|gzip)/+(.+?\.(?:zip|tar|tar\.gz|tgz|gz))(?:/|$)", re.IGNORECASE)


def files_read(path, seen=None):
    """The files on disk (absolute, links resolved) that GDAL reads to open `path`: the file itself, the sources of
    a VRT (also one in /vsimem, as the plugin stacks band files), the files of a Sentinel-2 product, the archive
    that holds a /vsizip/ member."""
    seen = set() if seen is None else seen
    if path in seen:
        return set()
    seen.add(path)
    found = {path}
    ds = opened(path)
    if ds is not None:
        found.update(ds.GetFileList() or [])
        for attributes, name in SOURCE.findall((ds.GetMetadata("xml:VRT") or [""])[0]):
            name = html.unescape(name)
            if RELATIVE.search(attributes):
                name = os.path.join(os.path.dirname(path), name)
            found |= files_read(name, seen)
    return {_on_disk(f) for f in found if _on_disk(f)}


def _on_disk(name):
    """The file on disk behind a GDAL name (the archive of a /vsizip/ member), or None (in-memory files, subdataset
    names: their files are in the list too)."""
    archive = ARCHIVE.match(name)
    if archive:
        name = "/" + archive.group(1).lstrip("/")
    return os.path.realpath(name) if os.path.isfile(name) else None


def check_outputs(outputs, inputs, rasters=()):
    """Refuse, naming the clash, an output ({label: path}, None for one not asked for) that is one of the files the
    `inputs` read (after resolving links), or that is given twice; and a raster output (label in `rasters`) whose
    name is not a GeoTIFF's."""
    given = {label: path for label, path in outputs.items() if path}
    for label in rasters:
        path = given.get(label)
        if path and not path.lower().endswith(RASTER_EXTENSIONS):
            raise InputError(tr("%s %s: this output is written as a GeoTIFF; give it a .tif name")
                             % (label, path))
    read = set()
    for path in inputs:
        if path:
            read |= files_read(path)
    seen = {}
    for label, path in given.items():
        real = os.path.realpath(path)
        if real in read:
            raise InputError(tr("%s %s is one of the input files: writing it would destroy your data; choose another "
                                "file name") % (label, path))
        if real in seen:
            raise InputError(tr("%s and %s are the same file (%s): give each output its own name")
                             % (seen[real], label, path))
        seen[real] = label


def temporary_file(target, suffix):
    """Create an empty file beside `target` under a temporary name owned by this process (with the usual
    permissions), after removing the temporary files of runs on this machine whose process has ended."""
    folder = os.path.dirname(os.path.abspath(target))
    if not os.access(folder, os.W_OK):
        raise InputError(tr("cannot write the output %s: its folder does not exist or is not writable") % target)
    remove_stale(folder)
    fd, path = tempfile.mkstemp(prefix="%s%s-%d-" % (PREFIX, _host(), os.getpid()), suffix=suffix, dir=folder)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)  # mkstemp makes it private; the output gets the usual permissions
    return path


def remove_stale(folder):
    """Remove the temporary files of this plugin in `folder` left by runs on this machine that no longer run."""
    for name in os.listdir(folder):
        owner = TEMPORARY.match(name)
        if owner and owner.group("host") == _host() and not _running(int(owner.group("pid"))):
            try:
                os.remove(os.path.join(folder, name))
            except OSError:  # gone meanwhile, or (Windows) held open by a live run
                pass


def write_text(path, text):
    """Write a text file whole: under a temporary name, renamed when complete."""
    tmp = temporary_file(path, os.path.splitext(path)[1])
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.remove(tmp)
        raise


def _host():
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())


def _running(pid):
    """Whether process `pid` of this machine runs. On Windows, which has no signal 0, this says no: there a file
    held open by a live run cannot be removed, and remove_stale skips it."""
    if pid == os.getpid():
        return True
    if os.name == "nt":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True
