"""Processing algorithm s2sr:superresolve."""
from qgis.core import (
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
)

from ..core.bands import BANDS_10M, BANDS_20M, BANDS_60M, S2_ORDER
from ..core.devices import BACKENDS, DEVICES, PRECISIONS, Runtime
from ..core.tiling import BLOCK, MAX_TILE, TILE_SIZES
from . import settings
from ..models.cards import Card, read_card
from .compat import DOUBLE, INTEGER, advanced
from .scene import SceneAlgorithm
from .style import StylePostProcessor, apply_confidence_style, confidence_layer_name, layer_name

TARGET_GROUPS = (("20m",), ("60m",), ("20m", "60m"))


class SuperResolveAlgorithm(SceneAlgorithm):
    """Sharpen the 20 m and 60 m Sentinel-2 bands to 10 m with a DSen2-style network."""

    TARGETS = "TARGETS"
    BANDS_OUT = "BANDS_OUT"
    INCLUDE_10M = "INCLUDE_10M"
    CONSISTENCY = "CONSISTENCY"
    SELF_CHECK = "SELF_CHECK"
    DEVICE = "DEVICE"
    PRECISION = "PRECISION"
    BACKEND = "BACKEND"
    FLIPS = "FLIPS"
    ADAPT = "ADAPT"
    TILE_SIZE = "TILE_SIZE"
    OUTPUT = "OUTPUT"
    CONFIDENCE = "CONFIDENCE"
    MODEL_CARD = "MODEL_CARD"

    def name(self):
        return "superresolve"

    def displayName(self):
        return self.tr("Super-resolve Sentinel-2")

    def help_values(self):
        return dict(block=BLOCK, tile_cpu=TILE_SIZES["cpu"], tile_cuda=TILE_SIZES["cuda"], max_tile=MAX_TILE)

    def initAlgorithm(self, config=None):
        self.addSceneParameters()
        self.addParameter(QgsProcessingParameterEnum(
            self.TARGETS, self.tr("Bands to super-resolve (default: both when the 60 m bands are given)"),
            options=[self.tr("20 m bands (%s)") % " ".join(BANDS_20M), self.tr("60 m bands (%s)") % " ".join(BANDS_60M),
                     self.tr("Both")], optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            self.INCLUDE_10M, self.tr("Include the original 10 m bands in the output"), defaultValue=True))
        self.addParameter(QgsProcessingParameterEnum(
            self.BANDS_OUT, self.tr("Bands to write (default: as the two parameters above choose)"),
            options=list(S2_ORDER), allowMultiple=True, usesStaticStrings=True, optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            self.CONSISTENCY, self.tr("Enforce consistency with the measured 20 m / 60 m pixels"), defaultValue=False))
        self.addParameter(QgsProcessingParameterBoolean(
            self.SELF_CHECK, self.tr("Self-check: score the networks on this scene first, and use bicubic or HPF "
                                     "pan-sharpening for a band where they do better"), defaultValue=True))
        self.addAreaAndModelParameters(self.tr("Area to process (default: all the inputs cover)"), cards=True)
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL_CARD, self.tr("Or run the model of this model card (YAML; e.g. an EVOLAND model)"),
            fileFilter=self.tr("Model cards (*.yaml *.yml)"), optional=True))
        self.addParameter(QgsProcessingParameterEnum(
            self.DEVICE, self.tr("Device"), options=list(DEVICES),
            defaultValue=int(settings.value(settings.DEVICE, 0))))
        self.addParameter(advanced(QgsProcessingParameterEnum(
            self.PRECISION, self.tr("Precision (automatic: bfloat16 where the device computes it natively)"),
            options=[self.tr("automatic"), "float32", "bfloat16"], defaultValue=0)))
        self.addParameter(advanced(QgsProcessingParameterEnum(
            self.BACKEND, self.tr("Backend (automatic: PyTorch where installed, else ONNX Runtime)"),
            options=[self.tr("automatic"), "PyTorch", "ONNX Runtime"], defaultValue=0)))
        self.addParameter(advanced(QgsProcessingParameterBoolean(
            self.FLIPS, self.tr("Average each network over the 8 flips and rotations of the input (8 times slower, "
                                "about 0.15 dB better)"), defaultValue=False)))
        self.addParameter(advanced(QgsProcessingParameterNumber(
            self.ADAPT, self.tr("Adapt the networks to this scene first: seconds of fine-tuning on its own Wald pairs "
                                "(0: off; a network is used adapted only where a held-out part of the area scores "
                                "better)"), DOUBLE, defaultValue=0.0, minValue=0.0, maxValue=3600.0)))
        self.addParameter(advanced(QgsProcessingParameterNumber(
            self.TILE_SIZE, self.tr("Tile size: 10 m pixels read and written at once (0: automatic; does not change "
                                    "the result)"),
            INTEGER, defaultValue=int(settings.value(settings.TILE_SIZE, 0)), minValue=0, maxValue=16384)))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Super-resolved bands")))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.CONFIDENCE, self.tr("Confidence: expected absolute error of each sharpened pixel (DN)"), optional=True,
            createByDefault=False))

    def process_scene(self, parameters, context, feedback, folder):
        from ..core.outputs import check_outputs
        from ..run.options import Options
        from ..run.pipeline import super_resolve

        model, folders = self.model(parameters, context, cards=True)
        card_path = self.parameterAsFile(parameters, self.MODEL_CARD, context)
        if card_path:
            model = read_card(card_path)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        confidence = self.parameterAsOutputLayer(parameters, self.CONFIDENCE, context) or None
        scene = self.scene(parameters, context, folder)
        chosen = parameters.get(self.TARGETS) is not None
        options = Options(
            targets=TARGET_GROUPS[self.parameterAsEnum(parameters, self.TARGETS, context)] if chosen else (),
            bands=tuple(b for b in self.parameterAsEnumStrings(parameters, self.BANDS_OUT, context) if b),
            model=model,
            model_dirs=folders,
            extent=self.extent(parameters, context, scene),
            include_10m=self.parameterAsBoolean(parameters, self.INCLUDE_10M, context),
            consistency=self.parameterAsBoolean(parameters, self.CONSISTENCY, context),
            self_check=self.parameterAsBoolean(parameters, self.SELF_CHECK, context),
            runtime=Runtime(DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
                            PRECISIONS[self.parameterAsEnum(parameters, self.PRECISION, context)],
                            BACKENDS[self.parameterAsEnum(parameters, self.BACKEND, context)],
                            int(settings.value(settings.THREADS, 0)),
                            self.parameterAsBoolean(parameters, self.FLIPS, context)),
            tile_size=self.parameterAsInt(parameters, self.TILE_SIZE, context),
            adapt=self.parameterAsDouble(parameters, self.ADAPT, context),
        )
        if options.adapt:  # the outputs checked before the seconds of adaptation are spent
            from ..training.adapt import adapted  # PyTorch: only where asked for

            check_outputs({self.OUTPUT: output, self.CONFIDENCE: confidence}, list(scene.stacks.values()),
                          rasters=(self.OUTPUT, self.CONFIDENCE))
            feedback.pushInfo(self.tr("Adapting the networks to this scene for {} s").format(options.adapt))
            options = adapted(scene, options, feedback.setProgress, feedback.isCanceled, feedback.pushInfo)
        bands = super_resolve(scene, output, options, confidence, feedback.setProgress, feedback.isCanceled,
                              feedback.pushInfo)
        if context.willLoadLayerOnCompletion(output):
            details = context.layerToLoadOnCompletionDetails(output)
            details.name = layer_name(bands, model.resolution if isinstance(model, Card) else 10)
            details.setPostProcessor(StylePostProcessor.create(bands))
        results = {self.OUTPUT: output}
        if confidence:
            sharpened = [b for b in bands if b not in BANDS_10M]
            if context.willLoadLayerOnCompletion(confidence):
                details = context.layerToLoadOnCompletionDetails(confidence)
                details.name = confidence_layer_name(sharpened)
                details.setPostProcessor(StylePostProcessor.create(sharpened, apply_confidence_style))
            results[self.CONFIDENCE] = confidence
        return results
