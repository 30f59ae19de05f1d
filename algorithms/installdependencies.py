"""Processing algorithm s2sr:installdependencies: pip-install PyTorch (CPU) and ONNX Runtime for this QGIS's
Python."""
from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..core.paths import DEPS_DIR, ICON_PATH
from . import dependencies
from .compat import FOLDER, advanced
from .scene import HELP_URL


class InstallDependenciesAlgorithm(QgsProcessingAlgorithm):
    """Installs the plugin's Python dependencies into a folder private to the plugin."""

    ROUTE = "ROUTE"
    ROUTES = ("torch", "onnxruntime")  # everything; ONNX Runtime alone
    PACKAGES = "PACKAGES"
    TARGET = "TARGET"
    PYTHON = "PYTHON"

    def tr(self, string):
        return QCoreApplication.translate("InstallDependenciesAlgorithm", string)

    def createInstance(self):  # noqa: N802 (QGIS's names from here on)
        return InstallDependenciesAlgorithm()

    def name(self):
        return "installdependencies"

    def displayName(self):
        return self.tr("Install PyTorch or ONNX Runtime for this plugin")

    def icon(self):
        return QIcon(ICON_PATH)

    def helpUrl(self):
        return HELP_URL

    def group(self):
        return self.tr("Set-up")

    def groupId(self):
        return "setup"

    def shortHelpString(self):
        return self.tr(
            "Installs the Python packages the super-resolution algorithms need with pip: PyTorch (CPU build, about "
            "215 MB to download, with onnx to export fine-tuned networks) and ONNX Runtime (about 15 MB), or ONNX "
            "Runtime alone, which runs the plugin's networks (in float32, a little slower than PyTorch in bfloat16) "
            "and the models of model cards such as "
            "EVOLAND's; the training commands need PyTorch. They go to the Python that this QGIS uses, into the "
            "plugin's own folder 'deps', which the plugin puts on the Python path when it loads. Nothing else in your Python is changed. Needs "
            "internet access to the Python package index. If you would rather manage packages yourself, run "
            "'python3 -m pip install torch onnxruntime' for QGIS's Python instead.")

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
