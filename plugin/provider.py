"""Processing provider `s2sr`."""
from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..core.paths import ICON_PATH
from ..algorithms.evaluate import EvaluateAlgorithm
from ..algorithms.finetune import FinetuneAlgorithm
from ..algorithms.installdependencies import InstallDependenciesAlgorithm
from ..algorithms.multitemporal import EvaluateSeriesAlgorithm, MultiTemporalAlgorithm
from ..algorithms.superresolve import SuperResolveAlgorithm
from ..algorithms import settings



class S2SRProvider(QgsProcessingProvider):
    """Sentinel-2 super-resolution algorithms."""

    def id(self):
        return "s2sr"

    def name(self):
        return QCoreApplication.translate("S2SRProvider", "Sentinel-2 super-resolution")

    def longName(self):  # noqa: N802 (QGIS's name)
        return self.name()

    def icon(self):
        return QIcon(ICON_PATH)

    def load(self):
        settings.add(self)
        self.refreshAlgorithms()
        return True

    def unload(self):
        settings.remove()

    def supportedOutputRasterLayerExtensions(self):  # noqa: N802 (QGIS's name)
        """The algorithms write GeoTIFF only."""
        return ["tif"]

    def loadAlgorithms(self):  # noqa: N802 (QGIS's name)
        self.addAlgorithm(SuperResolveAlgorithm())
        self.addAlgorithm(EvaluateAlgorithm())
        self.addAlgorithm(FinetuneAlgorithm())
        self.addAlgorithm(MultiTemporalAlgorithm())
        self.addAlgorithm(EvaluateSeriesAlgorithm())
        self.addAlgorithm(InstallDependenciesAlgorithm())
