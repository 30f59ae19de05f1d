"""Screenshots for the docs from a real QGIS window. QGIS runs this file at start-up (--code); it needs
`make demo` first. Use `make screenshots`, which starts Xvfb and QGIS:

    qgis --nologo --noversioncheck --code scripts/screenshots.py
"""
import os

from qgis.core import QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QApplication
from qgis.utils import iface, plugins

import processing

REPO = os.environ["S2SR_REPO"]
DEMO = os.path.join(REPO, "build", "demo")
SHOTS = os.path.join(REPO, "docs", "screenshots")


def run_and_show():
    processing.runAndLoadResults("s2sr:superresolve", {
        "INPUT_10M": os.path.join(DEMO, "10m.vrt"), "INPUT_20M": os.path.join(DEMO, "20m.vrt"),
        "INPUT_60M": os.path.join(DEMO, "60m.vrt"), "OUTPUT": "TEMPORARY_OUTPUT"})
    QTimer.singleShot(8000, grab_map)


def grab_map():
    iface.mainWindow().grab().save(os.path.join(SHOTS, "styled_result.png"))
    plugin = plugins["s2sr"]
    plugin.action.trigger()
    QTimer.singleShot(3000, grab_dialog)


def grab_dialog():
    dialog = plugins["s2sr"].dialog
    dialog.resize(900, 760)
    dialog.grab().save(os.path.join(SHOTS, "dialog.png"))
    dialog.close()
    QgsProject.instance().removeAllMapLayers()
    QApplication.instance().exit(0)


os.makedirs(SHOTS, exist_ok=True)
iface.mainWindow().resize(1400, 900)
QTimer.singleShot(5000, run_and_show)
