"""Processing algorithm s2sr:superresolve."""
from qgis.core import (
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
)

from ..core.bands import BANDS_10M, BANDS_20M, BANDS_60M
from ..core.devices import BACKENDS, DEVICES, PRECISIONS, Runtime
from ..core.tiling import BLOCK, MAX_TILE, TILE_SIZES
from . import settings
from ..models.cards import Card, read_card
from .compat import INTEGER, advanced
from .scene import SceneAlgorithm
from .style import StylePostProcessor, apply_confidence_style, confidence_layer_name, layer_name

TARGET_GROUPS = (("20m",), ("60m",), ("20m", "60m"))


class SuperResolveAlgorithm(SceneAlgorithm):
    """Sharpen the 20 m and 60 m Sentinel-2 bands to 10 m with a DSen2-style network."""

    TARGETS = "TARGETS"
    INCLUDE_10M = "INCLUDE_10M"
    CONSISTENCY = "CONSISTENCY"
    SELF_CHECK = "SELF_CHECK"
    DEVICE = "DEVICE"
    PRECISION = "PRECISION"
    BACKEND = "BACKEND"
    FLIPS = "FLIPS"
    TILE_SIZE = "TILE_SIZE"
    OUTPUT = "OUTPUT"
    CONFIDENCE = "CONFIDENCE"
    MODEL_CARD = "MODEL_CARD"

    def name(self):
        return "superresolve"

    def displayName(self):
        return self.tr("Super-resolve Sentinel-2")

    def shortHelpString(self):
        return self.tr(
            "Sharpens the Sentinel-2 20 m bands (B5 B6 B7 B8A B11 B12) and 60 m bands (B1 B9) to 10 m with a "
            "convolutional network guided by the 10 m bands (B2 B3 B4 B8), after DSen2 (Lanaras et al., "
            "ISPRS J. Photogramm. Remote Sens. 146, 2018).\n\n"
            "Inputs, one of: a Sentinel-2 L1C or L2A product as downloaded (its .SAFE folder, the MTD_MSIL1C.xml or "
            "MTD_MSIL2A.xml in it, or the .zip), read through GDAL's SENTINEL2 driver; the single-band files of one "
            "scene as they come (B01 ... B12 JP2 or GeoTIFF files, each band told by its file name or description); "
            "or three rasters of one scene with the bands in this order: 10 m: B2 B3 B4 B8; 20 m: B5 B6 B7 B8A B11 "
            "B12; 60 m (optional): B1 B9 (a third band B10 is ignored). Their pixels must be exactly 1:2:6 in the "
            "same CRS, with pixel edges that line up; they are paired by georeferencing.\n\n"
            "Products of processing baseline 04.00 and later (since January 2022) store DN + 1000: the offset their "
            "metadata declares (RADIO_ADD_OFFSET, BOA_ADD_OFFSET) is removed before the network and put back on the "
            "output, so the output keeps the product's convention (reflectance = (DN - 1000) / 10000) and records "
            "the offset in its metadata (S2SR_ADD_OFFSET). Band files inside a product folder get the same "
            "treatment. In L2A products, pixels of scene class 0 (no data) are no-data in the output.\n\n"
            "Output: a GeoTIFF on the 10 m grid over the common area, bands in Sentinel-2 order and named, same "
            "data type and no-data value as the input. Values are digital numbers as in the input. No-data and NaN "
            "input pixels are no-data in the output; integer inputs that declare no no-data value use 0, as "
            "Sentinel-2 products do (e.g. outside the swath). Gaps are filled before the network, so they do not "
            "darken their neighbours.\n\n"
            "Consistency: the log and the output metadata give, per band, the mean difference between the sharpened "
            "pixels averaged over each coarse pixel and the measured coarse pixel. With the consistency option the "
            "result is corrected so that this difference is zero: the network then only redistributes reflectance "
            "inside each measured pixel.\n\n"
            "Tiles: the network always runs on blocks of {} x {} pixels with overlapping margins, so there are no "
            "seams; the tile size only sets how much is read and written at once (rounded to whole blocks; 0: "
            "automatic, {} on the CPU and {} on CUDA; at most {}, which bounds memory) and does not change the "
            "result. If the GPU runs out of memory, the run splits its blocks in four and goes on, saying so in the "
            "log.\n\n"
            "Precision: automatic runs the network's convolutions in bfloat16 where the device computes it natively "
            "(CPUs with AVX-512 BF16 or AMX, recent NVIDIA GPUs), which is faster there; the upsampling the network "
            "corrects stays in float32, and the result differs from float32 by a few DN (0.01 dB of SRE on the OSCD "
            "test sites). Elsewhere float32 runs on the CPU by Winograd convolutions, within 1 DN of direct ones. "
            "Choose float32 for the same result on every machine within 1 DN. The output metadata records the "
            "precision used (S2SR_PRECISION).\n\n"
            "Backend: the networks run in PyTorch (the weight files) or in ONNX Runtime (the ONNX files exported "
            "beside them; float32 on the CPU, within 1 DN of PyTorch; the plugin needs one of the two). Automatic "
            "uses PyTorch where it is installed: it is the faster (a full tile on 2 cores, version 0.4.4: without "
            "bfloat16 347 s against 605 s for ONNX Runtime; with AMX 141 s against 335 s; this version, with AMX: "
            "150 s against 457 s), else ONNX Runtime. The output metadata records the backend used (S2SR_BACKEND)."
            "\n\n"
            "Flips (advanced, off by default): every network's output is the mean of its outputs for the eight "
            "flips and rotations of the input, which takes eight times the networks' time and scores about 0.15 dB "
            "better (held-out check scenes at reduced scale, the networks of version 0.4.4: 20 m bands +9.66 dB over "
            "bicubic instead of +9.52, 60 m bands +12.29 instead of +12.11). The self-check scores what is used; the "
            "confidence map, calibrated for the single network, then slightly overstates the errors. Recorded as "
            "S2SR_FLIPS.\n\n"
            "Self-check (on by default): before the output is written, each network is scored on this scene by the "
            "Wald protocol (16 windows spread over the area, every band degraded by the network's scale and "
            "restored), per band beside bicubic upsampling and HPF pan-sharpening. A band where the network loses "
            "to the better classical method is produced by that method instead; the log and the output metadata "
            "(S2SR_SELF_CHECK) give the scores and what was used. The verdict is drawn one scale coarser than the "
            "output, where HPF does better: for the 20 m bands the network's lead is corrected by how it grew from "
            "that scale to the output's on the calibration scenes, and a band goes to a classical method only where "
            "it stays ahead by more than that correction's spread. An area too small to check (about 2.6 x 2.6 km "
            "for the 60 m bands) is left to the network, and the log says so.\n\n"
            "Confidence (optional output): for every sharpened band, the expected absolute error of each 10 m pixel "
            "in DN, on the output's grid, bands named like the output's. It grows where the network, bicubic "
            "upsampling and HPF pan-sharpening disagree and at edges, and follows the band's contrast over the "
            "scene; it was calibrated on held-out scenes at reduced scale (the model card and the raster's metadata "
            "say which); about 80 % of the errors stay under it times S2SR_CONFIDENCE_BOUND_80 (about 1.5; for the "
            "20 m bands set for the scene from how the network's errors spread on its own windows). It "
            "ranks areas by their likely error better than it predicts a single pixel's. It can almost double the "
            "run's time (it computes the classical estimates of every band on every block) and costs nothing when "
            "not asked for.\n\n"
            "Models from model cards: the model of a card (YAML, in the format of the EVOLAND project: the ONNX "
            "file beside it, the bands it takes, its factor and margin), given as MODEL_CARD or found in the "
            "models folders (listed in Model), runs in ONNX Runtime and writes the card's bands on its own grid, "
            "nested in the 10 m one (EVOLAND's models: 5 m). The self-check scores it against bicubic upsampling "
            "(every input band degraded by the card's factor, each band compared at its own pixel size) and uses "
            "bicubic upsampling for a band where it loses. Bands to super-resolve, the 10 m bands option, the 60 m "
            "input, consistency and the confidence map do not apply to it.\n\n"
            "The networks standardise every band by its statistics over the area processed and see a pan band "
            "fitted from the 10 m bands, so a darker or brighter scene, and L1C or L2A, are all the same to them; "
            "the result therefore depends a little on the area processed. Their scores at reduced scale, on "
            "held-out L1C and L2A scenes, are in the model cards beside the weights. Sharpened bands are an "
            "estimate, not a measurement."
        ).format(BLOCK, BLOCK, TILE_SIZES["cpu"], TILE_SIZES["cuda"], MAX_TILE)

    def initAlgorithm(self, config=None):
        self.addSceneParameters()
        self.addParameter(QgsProcessingParameterEnum(
            self.TARGETS, self.tr("Bands to super-resolve (default: both when the 60 m bands are given)"),
            options=[self.tr("20 m bands (%s)") % " ".join(BANDS_20M), self.tr("60 m bands (%s)") % " ".join(BANDS_60M),
                     self.tr("Both")], optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            self.INCLUDE_10M, self.tr("Include the original 10 m bands in the output"), defaultValue=True))
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
            self.TILE_SIZE, self.tr("Tile size: 10 m pixels read and written at once (0: automatic; does not change "
                                    "the result)"),
            INTEGER, defaultValue=int(settings.value(settings.TILE_SIZE, 0)), minValue=0, maxValue=16384)))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Super-resolved bands")))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.CONFIDENCE, self.tr("Confidence: expected absolute error of each sharpened pixel (DN)"), optional=True,
            createByDefault=False))

    def process_scene(self, parameters, context, feedback, folder):
        from ..run.pipeline import super_resolve

        model, folders = self.model(parameters, context, cards=True)
        card_path = self.parameterAsFile(parameters, self.MODEL_CARD, context)
        if card_path:
            model = read_card(card_path)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        confidence = self.parameterAsOutputLayer(parameters, self.CONFIDENCE, context) or None
        scene = self.scene(parameters, context, folder)
        if parameters.get(self.TARGETS) is None:
            targets = TARGET_GROUPS[2 if scene.stacks[6] else 0]
        else:
            targets = TARGET_GROUPS[self.parameterAsEnum(parameters, self.TARGETS, context)]
        bands = super_resolve(
            scene.stacks[1],
            scene.stacks[2],
            output,
            input_60m=scene.stacks[6],
            targets=targets,
            include_10m=self.parameterAsBoolean(parameters, self.INCLUDE_10M, context),
            enforce_consistency=self.parameterAsBoolean(parameters, self.CONSISTENCY, context),
            extent=self.extent(parameters, context, scene),
            model=model,
            model_dirs=folders,
            runtime=Runtime(DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
                            PRECISIONS[self.parameterAsEnum(parameters, self.PRECISION, context)],
                            BACKENDS[self.parameterAsEnum(parameters, self.BACKEND, context)],
                            int(settings.value(settings.THREADS, 0)),
                            self.parameterAsBoolean(parameters, self.FLIPS, context)),
            tile_size=self.parameterAsInt(parameters, self.TILE_SIZE, context),
            progress=feedback.setProgress,
            is_cancelled=feedback.isCanceled,
            log=feedback.pushInfo,
            offsets=scene.offsets,
            valid_mask=scene.valid_mask,
            extra_metadata=scene.metadata,
            self_check=self.parameterAsBoolean(parameters, self.SELF_CHECK, context),
            confidence=confidence,
        )
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
