"""Processing algorithm s2sr:finetune: adapt a model to the user's own region (training.finetune)."""
from qgis.core import (
    QgsApplication,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from . import settings
from .compat import DOUBLE
from .scene import SceneAlgorithm

TARGET_GROUPS = (("20m",), ("60m",), ("20m", "60m"))


class FinetuneAlgorithm(SceneAlgorithm):
    """Fine-tune a model's networks on the scene by the Wald protocol, keep them only if they do better on a
    held-out part, and add the new model to the user's models folder."""

    TARGETS = "TARGETS"
    MINUTES = "MINUTES"
    NAME = "NAME"
    MODEL_NAME = "MODEL_NAME"
    SCORE_BEFORE = "SCORE_BEFORE"
    SCORE_AFTER = "SCORE_AFTER"

    def name(self):
        return "finetune"

    def displayName(self):
        return self.tr("Fine-tune a model on your region")

    def initAlgorithm(self, config=None):
        self.addSceneParameters()
        self.addAreaAndModelParameters(self.tr("Area to learn from (default: all the inputs cover)"))
        self.addParameter(QgsProcessingParameterEnum(
            self.TARGETS, self.tr("Networks to fine-tune"),
            options=[self.tr("2x (20 m bands)"), self.tr("6x (60 m bands)"), self.tr("both")], defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber(
            self.MINUTES, self.tr("Time budget (minutes)"), DOUBLE, defaultValue=3.0,
            minValue=0.05, maxValue=24 * 60))
        self.addParameter(QgsProcessingParameterString(self.NAME, self.tr("Name of the new model")))
        self.addOutput(QgsProcessingOutputString(self.MODEL_NAME, self.tr("Model to use")))
        self.addOutput(QgsProcessingOutputNumber(self.SCORE_BEFORE, self.tr("Held-out SRE gain before (dB)")))
        self.addOutput(QgsProcessingOutputNumber(self.SCORE_AFTER, self.tr("Held-out SRE gain after (dB)")))

    def process_scene(self, parameters, context, feedback, folder):
        try:
            from ..training.finetune import finetune
        except ImportError as err:
            raise QgsProcessingException(self.tr(
                "Fine-tuning needs PyTorch: run 'Install PyTorch or ONNX Runtime for this plugin' ({})").format(err))
        model, folders = self.model(parameters, context)
        scene = self.scene(parameters, context, folder)
        outcome = finetune(
            [scene], self.parameterAsString(parameters, self.NAME, context).strip(),
            self.parameterAsDouble(parameters, self.MINUTES, context),
            TARGET_GROUPS[self.parameterAsEnum(parameters, self.TARGETS, context)], model, folders,
            settings.user_models_folder(), self.extent(parameters, context, scene), feedback.setProgress,
            feedback.isCanceled, feedback.pushInfo)
        return {self.MODEL_NAME: outcome.model, self.SCORE_BEFORE: outcome.gain("before"),
                self.SCORE_AFTER: outcome.gain("after")}

    def postProcessAlgorithm(self, context, feedback):  # noqa: N802 (QGIS's name); on the main thread
        provider = QgsApplication.processingRegistry().providerById("s2sr")
        if provider is not None:
            provider.refreshAlgorithms()  # the new model appears in MODEL
        return {}
