"""The inputs of a batch: Sentinel-2 products (.SAFE folder, .zip, metadata XML), folders holding one scene's
single-band files, and text files listing such inputs, one a line."""
import hashlib
import os

from ..core.product import METADATA_FILE

SIDECARS = (".aux.xml", ".ovr")


def expand(paths):
    """The inputs named by `paths` (a text file: the inputs it lists, relative to its folder), absolute, in order,
    each once."""
    found = []
    for path in paths:
        if os.path.isfile(path) and path.lower().endswith(".txt"):
            with open(path, encoding="utf-8") as f:
                lines = [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]
            found += expand([os.path.join(os.path.dirname(os.path.abspath(path)), line) for line in lines])
        else:
            found.append(os.path.abspath(path))
    return list(dict.fromkeys(found))


def name(path):
    """The output's name for an input: the product's name (without .SAFE, .zip) or the folder's."""
    path = path.rstrip("/\\")
    if METADATA_FILE.match(os.path.basename(path)):
        path = os.path.dirname(path)
    base = os.path.basename(path)
    for ext in (".zip", ".SAFE", ".safe"):
        if base.endswith(ext):
            base = base[: -len(ext)]
    return base


def fingerprint(path):
    """What identifies an input's content without reading it: the size and modification time of its files (GDAL's
    side-car files left out: QGIS writes statistics there when it shows a band)."""
    digest = hashlib.sha1()
    walk = os.walk(path) if os.path.isdir(path) else [(os.path.dirname(path), [], [os.path.basename(path)])]
    for top, dirs, files in walk:
        dirs.sort()
        for n in sorted(f for f in files if not f.lower().endswith(SIDECARS)):
            info = os.stat(os.path.join(top, n))
            digest.update(("%s %d %d\n" % (os.path.relpath(os.path.join(top, n), path), info.st_size,
                                           info.st_mtime_ns)).encode())
    return digest.hexdigest()
