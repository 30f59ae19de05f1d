"""What the plugin's Processing algorithms share: the translation context, a new instance, the icon, the group, the
help URL (the README beside the plugin), and the help text, kept as data in algorithms/help/<name>.txt (as QGIS keeps
its own algorithms' help) and translated paragraph by paragraph."""
import os

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException, QgsProcessingParameterFileDestination
from qgis.PyQt.QtCore import QCoreApplication, QUrl
from qgis.PyQt.QtGui import QIcon

from ..core.paths import ICON_PATH, PLUGIN_DIR

HELP_URL = QUrl.fromLocalFile(os.path.join(PLUGIN_DIR, "README.md")).toString()
HELP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "help")
GROUPS = {"superresolution": "Super-resolution", "setup": "Set-up"}  # group id -> name, translated when shown


class S2SRAlgorithm(QgsProcessingAlgorithm):
    """Base of the plugin's algorithms; a subclass sets GROUP (a key of GROUPS) and gives name(), displayName(),
    initAlgorithm() and processAlgorithm(), and help_values() where its help text has {placeholders}."""

    GROUP = "superresolution"

    def tr(self, string):
        return QCoreApplication.translate(type(self).__name__, string)

    def createInstance(self):  # noqa: N802 (QGIS's names from here on)
        return type(self)()

    def group(self):
        return QCoreApplication.translate("S2SRGroups", GROUPS[self.GROUP])

    def groupId(self):
        return self.GROUP

    def icon(self):
        return QIcon(ICON_PATH)

    def helpUrl(self):
        return HELP_URL

    def shortHelpString(self):
        with open(os.path.join(HELP_DIR, self.name() + ".txt"), encoding="utf-8") as f:
            paragraphs = f.read().strip().split("\n")
        return "\n\n".join(QCoreApplication.translate("S2SRHelp", p) for p in paragraphs if p).format(
            **self.help_values())

    def help_values(self):
        """The values of the help text's {placeholders}."""
        return {}

    def processAlgorithm(self, parameters, context, feedback):
        """`process`, the core's errors turned into Processing's: its message, and no output written."""
        from ..core.errors import Cancelled, InputError

        try:
            return self.process(parameters, context, feedback)
        except (InputError, OSError) as err:  # OSError: unreadable weights or output, message names the file
            raise QgsProcessingException(str(err)) from err
        except Cancelled as err:
            raise QgsProcessingException(self.tr("Cancelled: no output was written")) from err

    def process(self, parameters, context, feedback):
        """Do the work (subclasses)."""
        raise NotImplementedError


class ReportOutputs:
    """What the evaluation algorithms (s2sr:evaluate, s2sr:evaluatemultitemporal) share, beside S2SRAlgorithm: the HTML
    report and the optional CSV of every score (run.reports), and the log's summary of the scores."""

    OUTPUT_HTML = "OUTPUT_HTML"
    OUTPUT_CSV = "OUTPUT_CSV"

    def addReportParameters(self):
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_HTML, self.tr("Report"), self.tr("HTML files (*.html)")))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_CSV, self.tr("Scores table"), self.tr("CSV files (*.csv)"), optional=True,
            createByDefault=False))

    def reportTargets(self, parameters, context):
        """{OUTPUT_HTML: path, OUTPUT_CSV: path or ''}."""
        return {key: self.parameterAsFileOutput(parameters, key, context)
                for key in (self.OUTPUT_HTML, self.OUTPUT_CSV)}

    def writeReports(self, results, title, targets, feedback):
        """Log the scores' summary and write the reports of `results` (run.evaluation's) to `targets`; returns the
        outputs written, {key: path}."""
        from ..run import reports

        for line in reports.summary(results):
            feedback.pushInfo(line)
        reports.write_reports(results, title, targets[self.OUTPUT_HTML], targets[self.OUTPUT_CSV])
        return {key: path for key, path in targets.items() if key in (self.OUTPUT_HTML, self.OUTPUT_CSV) and path}
