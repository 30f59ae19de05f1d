"""The plugin object QGIS creates: registers the Processing provider and its Raster menu entries."""
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..core.paths import ICON_PATH
from ..algorithms.compat import QAction
from ..core import errors
from ..algorithms import dependencies
from .provider import S2SRProvider

ALGORITHM = "s2sr:superresolve"
FINETUNE = "s2sr:finetune"
INSTALLER = "s2sr:installdependencies"


def tr(string):
    return QCoreApplication.translate("S2SRPlugin", string)


class S2SRPlugin:
    """Registers the `s2sr` provider (also in qgis_process, which calls initProcessing only) and, in the QGIS
    window, a Raster menu entry and toolbar button that open the algorithm's dialog."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.action = None  # the main entry, also on the Raster toolbar
        self.actions = []
        self.dialog = None

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        errors.set_translator(lambda template: QCoreApplication.translate("s2sr", template))
        if self.provider is None:
            provider = S2SRProvider()
            if QgsApplication.processingRegistry().addProvider(provider):  # False if `s2sr` is already there
                self.provider = provider

    def initGui(self):  # noqa: N802 (QGIS's name)
        self.initProcessing()
        self.action = self._add_action(tr("Super-resolve Sentinel-2…"), ALGORITHM,
                                       tr("Sharpen the Sentinel-2 20 m and 60 m bands to 10 m"))
        self.iface.addRasterToolBarIcon(self.action)
        self._add_action(tr("Fine-tune a model on your region…"), FINETUNE,
                         tr("Train a model further on your own scene, kept only if it does better there"))
        if not dependencies.backend_available():
            self._add_action(tr("Install PyTorch or ONNX Runtime for this plugin…"), INSTALLER,
                             tr("pip-install PyTorch (CPU build) or ONNX Runtime into the plugin's own folder"))
            self.iface.messageBar().pushWarning(self.menu_name(), tr(
                "Neither PyTorch nor ONNX Runtime is installed for QGIS's Python: use Raster > Sentinel-2 "
                "super-resolution > "
                "Install PyTorch or ONNX Runtime for this plugin."))

    def _add_action(self, text, algorithm, tip):
        action = QAction(QIcon(ICON_PATH), text, self.iface.mainWindow())
        action.setToolTip(tip)
        action.triggered.connect(lambda: self.open_dialog(algorithm))
        self.iface.addPluginToRasterMenu(self.menu_name(), action)
        self.actions.append(action)
        return action

    @staticmethod
    def menu_name():
        return tr("Sentinel-2 super-resolution")

    def open_dialog(self, algorithm=ALGORITHM):
        """The Processing dialog: its Run button starts a background task (task manager, cancel, layer loaded)."""
        import processing

        self.dialog = processing.createAlgorithmDialog(algorithm)
        self.dialog.show()

    def unload(self):
        for action in self.actions:
            self.iface.removePluginRasterMenu(self.menu_name(), action)
        if self.actions:
            self.iface.removeRasterToolBarIcon(self.action)
        self.actions = []
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
