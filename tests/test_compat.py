"""The QGIS and Qt names of algorithms/compat.py do what their old names did on the running QGIS (3.22 to 4), and the
plugin's sources use no name that QGIS 4 (Qt 6) removed."""
import os
import re

import pytest
from qgis.core import (
    Qgis,
    QgsColorRampShader,
    QgsContrastEnhancement,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from s2sr.algorithms import compat

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: what `make package` ships
SHIPPED = ("__init__.py", "algorithms", "batch", "core", "models", "plugin", "run", "training")
#: names that QGIS 4 or PyQt 6 removed (QGIS's scripts/pyqt5_to_pyqt6 and the QGIS 4 API breaks): pattern -> instead
REMOVED = {
    r"\bexec_\(": "exec()",
    r"\bQRegExp\b": "QRegularExpression",
    r"\bqApp\b": "QApplication.instance()",
    r"\bQDesktopWidget\b": "QScreen",
    r"\bresources_rc\b": "icons loaded by file path",
    r"\b(from|import) PyQt5\b": "qgis.PyQt",
    r"\bqgis\.PyQt\.Qt\b": "qgis.PyQt.QtCore",
    r"QtWidgets import [^\n]*\bQAction\b": "compat.QAction (QtGui in Qt 6)",
    r"\bQVariant\b": "Python values, QMetaType",
    r"activated\[str\]": "textActivated",
    r"\bQt\.(?!\w+\.)\w+": "the scoped Qt enum (Qt.AlignmentFlag.AlignLeft)",
    r"\bMidButton\b|\bTextColorRole\b|\bBackgroundColorRole\b|\bHighQualityAntialiasing\b": "their Qt 6 names",
    r"\bFlagAdvanced\b|\bFlagOptional\b|\bFlagHidden\b": "compat.ADVANCED (Qgis.ProcessingParameterFlag)",
    r"QgsProcessing\.Type\w+": "compat.RASTER (Qgis.ProcessingSourceType)",
    r"QgsProcessingParameterFile\.(Folder|File)\b": "compat.FOLDER (Qgis.ProcessingFileParameterBehavior)",
    r"QgsProcessingParameterNumber\.(Double|Integer)\b": "compat.DOUBLE, compat.INTEGER",
    r"QgsColorRampShader\.(Interpolated|Discrete|Exact|Continuous|EqualInterval|Quantile)\b": "compat.LINEAR ...",
    r"QgsContrastEnhancement\.(StretchToMinimumMaximum|NoEnhancement|StretchAndClipToMinimumMaximum)\b":
        "compat.STRETCH_MIN_MAX",
    r"\bsaveDefaultStyle\(\)": "saveNamedStyle(layer.styleURI(), ...)",
    r"\bQgis\.(Info|Warning|Critical|Success)\b": "Qgis.MessageLevel.*",
}


def sources():
    for entry in SHIPPED:
        path = os.path.join(REPO, entry)
        if os.path.isfile(path):
            yield path
        for folder, _, names in os.walk(path):
            yield from (os.path.join(folder, n) for n in names if n.endswith(".py"))


def test_no_name_that_qgis_4_removed_in_the_sources():
    found = []
    for path in sources():
        if os.path.realpath(path) == os.path.realpath(compat.__file__):  # it names 3.22's spelling, as its fallback
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for pattern, instead in REMOVED.items():
            for match in re.finditer(pattern, text):
                line = text.count("\n", 0, match.start()) + 1
                found.append("%s:%d: %s (use %s)" % (os.path.relpath(path, REPO), line, match.group(0), instead))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("text, removed", [
    ("from qgis.PyQt.QtWidgets import QAction, QMenu", True), ("from qgis.PyQt.QtGui import QAction", False),
    ("p.flags() | QgsProcessingParameterDefinition.FlagAdvanced", True), ("dialog.exec_()", True),
    ("Qt.AlignLeft", True), ("Qt.AlignmentFlag.AlignLeft", False), ("compat.ADVANCED", False)])
def test_the_scan_finds_what_it_lists(text, removed):
    assert any(re.search(p, text) for p in REMOVED) == removed


def test_the_compatibility_names_work_on_this_qgis(qgis_app):
    modern = hasattr(Qgis, "ProcessingSourceType")  # QGIS 3.36 and later
    string = compat.advanced(QgsProcessingParameterString("S", "s"))
    assert string.flags() & compat.ADVANCED
    for kind in (compat.RASTER, compat.FILE):
        assert QgsProcessingParameterMultipleLayers("L", "l", kind).layerType() == kind
    assert compat.RASTER != compat.FILE
    assert QgsProcessingParameterFile("F", "f", behavior=compat.FOLDER).behavior() == compat.FOLDER
    for kind in (compat.DOUBLE, compat.INTEGER):
        assert QgsProcessingParameterNumber("N", "n", kind).dataType() == kind
    assert compat.DOUBLE != compat.INTEGER
    shader = QgsColorRampShader(0, 1, None, compat.LINEAR, compat.EQUAL_INTERVAL)
    assert shader.colorRampType() == compat.LINEAR and shader.classificationMode() == compat.EQUAL_INTERVAL
    enhancement = QgsContrastEnhancement(Qgis.DataType.UInt16)
    enhancement.setContrastEnhancementAlgorithm(compat.STRETCH_MIN_MAX)
    assert enhancement.contrastEnhancementAlgorithm() == compat.STRETCH_MIN_MAX
    assert compat.QAction("x").text() == "x"
    assert type(compat.RASTER).__name__ == ("ProcessingSourceType" if modern else "SourceType")
