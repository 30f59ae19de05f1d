"""Processing algorithm s2sr:installdependencies: pip-install PyTorch (CPU) and ONNX Runtime for this QGIS's
Python."""
from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterString,
)

from ..core.paths import DEPS_DIR
from . import dependencies
from .base import S2SRAlgorithm
from .compat import FOLDER, advanced


class InstallDependenciesAlgorithm(S2SRAlgorithm):
    """Installs the plugin's Python dependencies into a folder private to the plugin."""

    GROUP = "setup"
    ROUTE = "ROUTE"
    ROUTES = ("torch", "onnxruntime")  # everything; ONNX Runtime alone
    PACKAGES = "PACKAGES"
    TARGET = "TARGET"
    PYTHON = "PYTHON"

    def name(self):
        return "installdependencies"

    def displayName(self):
        return self.tr("Install PyTorch or ONNX Runtime for this plugin")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterEnum(self.ROUTE, self.tr("Install"), [
            self.tr("PyTorch and ONNX Runtime (about 230 MB)"), self.tr("ONNX Runtime only (about 15 MB)")],
            defaultValue=0))
        self.addParameter(advanced(QgsProcessingParameterString(
            self.PACKAGES, self.tr("Packages (pip requirement specifiers)"),
            defaultValue=" ".join(dependencies.requirements()))))
        self.addParameter(advanced(QgsProcessingParameterFile(
            self.TARGET, self.tr("Install into folder"), behavior=FOLDER, defaultValue=DEPS_DIR)))
        self.addOutput(QgsProcessingOutputString(self.PYTHON, self.tr("Python interpreter used")))

    def processAlgorithm(self, parameters, context, feedback):
        packages = self.parameterAsString(parameters, self.PACKAGES, context).split()
        if self.ROUTES[self.parameterAsEnum(parameters, self.ROUTE, context)] == "onnxruntime":
            packages = [p for p in packages if not dependencies.needs_torch(p)]
        target = self.parameterAsString(parameters, self.TARGET, context)
        try:
            python = dependencies.python_executable()
        except RuntimeError as err:
            raise QgsProcessingException(str(err)) from err
        feedback.pushInfo(self.tr("Installing {} with {} into {}").format(" ".join(packages), python, target))
        code = dependencies.install(packages, target, feedback.pushConsoleInfo, feedback.isCanceled)
        if code is None:
            raise QgsProcessingException(self.tr("Cancelled: the installation was stopped"))
        if code:
            raise QgsProcessingException(self.tr("pip failed (exit code {}): see the log above").format(code))
        feedback.pushInfo(self.tr("Installed. The super-resolution algorithms can run now."))
        return {self.PYTHON: python}
