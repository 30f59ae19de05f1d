"""Exceptions the core raises, and the translation hook for their messages.

The core does not depend on QGIS; the plugin installs Qt's translator with `set_translator`, so every
user-facing message template passes through QCoreApplication.translate inside QGIS.
"""

_translate = None


def set_translator(translate):
    """Use `translate(template) -> str` for the core's messages (None: English as written)."""
    global _translate
    _translate = translate


def tr(template):
    """Translate a message template (before its %-formatting)."""
    return _translate(template) if _translate else template


class InputError(ValueError):
    """Bad input: the message says what is wrong and what to do."""


class ExtentError(InputError):
    """The area asked for (in the 10 m raster's CRS) does not overlap the inputs."""


class Cancelled(Exception):
    """The user cancelled the run."""


class OutOfMemory(MemoryError):
    """A network ran out of memory on its device (a GPU) for one block: the pipeline splits the block."""
