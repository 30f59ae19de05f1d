"""Sentinel-2 super-resolution: a QGIS Processing plugin (DSen2-style networks, 20/60 m bands to 10 m)."""
import os
import sys

from .core.paths import DEPS_DIR

if os.path.isdir(DEPS_DIR) and DEPS_DIR not in sys.path:
    sys.path.append(DEPS_DIR)


def classFactory(iface):  # noqa: N802 (QGIS's name)
    """QGIS entry point."""
    from .plugin.plugin import S2SRPlugin

    return S2SRPlugin(iface)
