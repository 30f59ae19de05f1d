"""The QGIS and Qt names that moved between QGIS 3.22 (the oldest the plugin supports), 3.40 LTR and QGIS 4 (Qt 6),
in one place: each is taken where current QGIS has it (the `Qgis.*` enums of QGIS 3.36 and later, `QAction` in Qt 6's
QtGui) and otherwise where QGIS 3.22 had it, by its scoped name (which Qt 6 requires). The rest of the plugin uses
these and no deprecated name; tests/test_compat.py checks them on the running QGIS and scans the sources for names
that QGIS 4 or PyQt 6 removed."""
from qgis.core import (
    Qgis,
    QgsColorRampShader,
    QgsContrastEnhancement,
    QgsMapLayer,
    QgsProcessing,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
)

try:  # Qt 6 (QGIS 4)
    from qgis.PyQt.QtGui import QAction
except ImportError:  # Qt 5
    from qgis.PyQt.QtWidgets import QAction

PROCESSING_ENUMS = hasattr(Qgis, "ProcessingSourceType")  # QGIS 3.36 and later
SHADER_ENUMS = hasattr(Qgis, "ShaderInterpolationMethod")  # QGIS 3.30 and later

ADVANCED = Qgis.ProcessingParameterFlag.Advanced if PROCESSING_ENUMS else \
    QgsProcessingParameterDefinition.Flag.FlagAdvanced
RASTER = Qgis.ProcessingSourceType.Raster if PROCESSING_ENUMS else QgsProcessing.SourceType.TypeRaster
FILE = Qgis.ProcessingSourceType.File if PROCESSING_ENUMS else QgsProcessing.SourceType.TypeFile
FOLDER = Qgis.ProcessingFileParameterBehavior.Folder if PROCESSING_ENUMS else QgsProcessingParameterFile.Behavior.Folder
NUMBER = Qgis.ProcessingNumberParameterType if PROCESSING_ENUMS else QgsProcessingParameterNumber.Type
DOUBLE, INTEGER = NUMBER.Double, NUMBER.Integer
LINEAR = Qgis.ShaderInterpolationMethod.Linear if SHADER_ENUMS else QgsColorRampShader.Type.Interpolated
EQUAL_INTERVAL = Qgis.ShaderClassificationMethod.EqualInterval if SHADER_ENUMS else \
    QgsColorRampShader.ClassificationMode.EqualInterval
STRETCH_MIN_MAX = QgsContrastEnhancement.ContrastEnhancementAlgorithm.StretchToMinimumMaximum
ALL_STYLE_CATEGORIES = QgsMapLayer.StyleCategory.AllStyleCategories

__all__ = ["QAction", "ADVANCED", "RASTER", "FILE", "FOLDER", "DOUBLE", "INTEGER", "LINEAR", "EQUAL_INTERVAL",
           "STRETCH_MIN_MAX", "ALL_STYLE_CATEGORIES", "advanced"]


def advanced(parameter):
    """The Processing parameter, shown under the dialog's advanced parameters."""
    parameter.setFlags(parameter.flags() | ADVANCED)
    return parameter
