"""Sentinel-2 super-resolution: a QGIS Processing plugin (DSen2-style networks, 20/60 m bands to 10 m)."""
import os
import sys

PLUGIN_DIR = os.path.dirname(os.path.abspath(__file__))
RESOURCES_DIR = os.path.join(PLUGIN_DIR, "resources")
ICON_PATH = os.path.join(RESOURCES_DIR, "icon.svg")
#: private folder for Python dependencies installed for this plugin (e.g. PyTorch's CPU build)
DEPS_DIR = os.path.join(PLUGIN_DIR, "deps")
if os.path.isdir(DEPS_DIR) and DEPS_DIR not in sys.path:
    sys.path.append(DEPS_DIR)


def classFactory(iface):  # noqa: N802 (QGIS's name)
    """QGIS entry point."""
    from .plugin.plugin import S2SRPlugin

    return S2SRPlugin(iface)
