"""GDAL's Python bindings called the same way whatever their exception mode. QGIS 3.22 leaves the bindings' exceptions
off (a failed call returns None or an error code), QGIS 3.40's Processing plugin switches them on for all of QGIS's
Python (`gdal.UseExceptions()`: a failed call raises RuntimeError), and a script may do either; the plugin changes
neither. Every call of the plugin's that can fail goes through `checked` (a failure is an error, named with GDAL's
reason) or `opened` (a failure is an answer: not a raster); a written dataset is freed under `release_errors`."""
import contextlib
import sys

from osgeo import gdal

from .errors import InputError, tr


def checked(what, function, *args, **kwargs):
    """function(*args, **kwargs), a call of GDAL's bindings: its result; InputError "<what>: <GDAL's reason>" where it
    failed in either mode (RuntimeError raised, None returned, or an error code other than CE_None)."""
    gdal.ErrorReset()
    try:
        result = function(*args, **kwargs)
    except RuntimeError as err:
        reason = str(err)
    else:
        if result is not None and not (type(result) is int and result != gdal.CE_None):
            return result
        reason = gdal.GetLastErrorMsg()
    raise InputError("%s: %s" % (what, reason or tr("GDAL gave no reason")))


@contextlib.contextmanager
def release_errors(into):
    """In the block, what GDAL raises while a dataset is freed (with exceptions on: a written dataset's last writes
    failing, e.g. a full disk), which Python could only print as an ignored exception, is appended to `into` (its
    message) instead; anything else is left to Python's hook."""
    hook = sys.unraisablehook

    def keep(unraisable):
        if isinstance(unraisable.exc_value, RuntimeError):
            into.append(str(unraisable.exc_value))
        else:
            hook(unraisable)

    sys.unraisablehook = keep
    try:
        yield into
    finally:
        sys.unraisablehook = hook


def opened(path, flags=gdal.OF_RASTER):
    """gdal.OpenEx(path, flags), or None where GDAL cannot open it, in either mode."""
    try:
        return gdal.OpenEx(path, flags)
    except RuntimeError:
        return None


def remove_files(*folders):
    """Delete the files of /vsimem folders (a run's temporary VRTs). /vsimem lists no folder inside a folder, so a file
    in one would stay: give every folder that holds files."""
    for folder in folders:
        for name in gdal.ReadDir(folder) or []:
            gdal.Unlink("%s/%s" % (folder, name))
