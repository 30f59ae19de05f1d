"""The plugin object QGIS creates: registers the Processing provider and a Raster menu entry."""
import os

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from .provider import RESOURCES, S2SRProvider

ALGORITHM = "s2sr:superresolve"


def tr(string):
    return QCoreApplication.translate("S2SRPlugin", string)


class S2SRPlugin:
    """Registers the `s2sr` provider (also in qgis_process, which calls initProcessing only) and, in the QGIS
    window, a Raster menu entry and toolbar button that open the algorithm's dialog."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.action = None
        self.dialog = None

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        if self.provider is None:
            self.provider = S2SRProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS's name)
        self.initProcessing()
        self.action = QAction(QIcon(os.path.join(RESOURCES, "icon.svg")), tr("Super-resolve Sentinel-2…"),
                              self.iface.mainWindow())
        self.action.setObjectName("s2srSuperResolve")
        self.action.setToolTip(tr("Sharpen the Sentinel-2 20 m and 60 m bands to 10 m"))
        self.action.triggered.connect(self.open_dialog)
        self.iface.addPluginToRasterMenu(self.menu_name(), self.action)
        self.iface.addRasterToolBarIcon(self.action)

    @staticmethod
    def menu_name():
        return tr("Sentinel-2 super-resolution")

    def open_dialog(self):
        """The Processing dialog: its Run button starts a background task (task manager, cancel, layer loaded)."""
        import processing

        self.dialog = processing.createAlgorithmDialog(ALGORITHM)
        self.dialog.show()

    def unload(self):
        if self.action is not None:
            self.iface.removePluginRasterMenu(self.menu_name(), self.action)
            self.iface.removeRasterToolBarIcon(self.action)
            self.action = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
