"""The plugin object QGIS creates: registers the Processing provider."""
from qgis.core import QgsApplication

from .provider import S2SRProvider


class S2SRPlugin:
    """Registers the `s2sr` provider, both in QGIS and in qgis_process (which calls initProcessing only)."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        if self.provider is None:
            self.provider = S2SRProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS's name)
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
