"""Processing algorithm s2sr:superresolve."""
import os
import sys
import uuid

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsRasterLayer,
)
from qgis.PyQt.QtCore import QCoreApplication, QUrl
from qgis.PyQt.QtGui import QIcon
from osgeo import gdal

from .. import ICON_PATH, PLUGIN_DIR, models

from ..core.bands import BANDS_20M, BANDS_60M
from ..core.tiling import BLOCK, MAX_TILE, TILE_SIZES
from ..plugin import settings
from .style import StylePostProcessor, layer_name

HELP_URL = QUrl.fromLocalFile(os.path.join(PLUGIN_DIR, "README.md")).toString()
TARGET_GROUPS = (("20m",), ("60m",), ("20m", "60m"))


class SuperResolveAlgorithm(QgsProcessingAlgorithm):
    """Sharpen the 20 m and 60 m Sentinel-2 bands to 10 m with a DSen2-style network."""

    PRODUCT = "PRODUCT"
    INPUT_10M = "INPUT_10M"
    INPUT_20M = "INPUT_20M"
    INPUT_60M = "INPUT_60M"
    BANDS = "BANDS"
    TARGETS = "TARGETS"
    INCLUDE_10M = "INCLUDE_10M"
    CONSISTENCY = "CONSISTENCY"
    EXTENT = "EXTENT"
    MODEL = "MODEL"
    DEVICE = "DEVICE"
    TILE_SIZE = "TILE_SIZE"
    OUTPUT = "OUTPUT"

    def tr(self, string):
        return QCoreApplication.translate("SuperResolveAlgorithm", string)

    def createInstance(self):  # noqa: N802 (QGIS's names from here on)
        return SuperResolveAlgorithm()

    def name(self):
        return "superresolve"

    def displayName(self):
        return self.tr("Super-resolve Sentinel-2")

    def group(self):
        return self.tr("Super-resolution")

    def groupId(self):
        return "superresolution"

    def icon(self):
        return QIcon(ICON_PATH)

    def helpUrl(self):
        return HELP_URL

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
            "The networks were trained on L1C scenes by the Wald protocol; their scores at reduced scale are in "
            "the model cards beside the weights. Sharpened bands are an estimate, not a measurement."
        ).format(BLOCK, BLOCK, TILE_SIZES["cpu"], TILE_SIZES["cuda"], MAX_TILE)

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFile(
            self.PRODUCT, self.tr("Sentinel-2 product (.zip, or MTD_MSIL1C/2A.xml in a .SAFE folder)"),
            optional=True,
            fileFilter=self.tr("Sentinel-2 products (*.zip MTD_MSIL1C.xml MTD_MSIL2A.xml);;All files (*)")))
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.INPUT_10M, self.tr("Or: 10 m bands (B2 B3 B4 B8)"), optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.INPUT_20M, self.tr("20 m bands (B5 B6 B7 B8A B11 B12)"), optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.INPUT_60M, self.tr("60 m bands (B1 B9, optional B10)"), optional=True))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.BANDS, self.tr("Or: single-band files, named by band (B02.jp2, ..._B8A.jp2, ...)"),
            QgsProcessing.TypeRaster, optional=True))
        self.addParameter(QgsProcessingParameterEnum(
            self.TARGETS, self.tr("Bands to super-resolve (default: both when the 60 m bands are given)"),
            options=[self.tr("20 m bands (%s)") % " ".join(BANDS_20M), self.tr("60 m bands (%s)") % " ".join(BANDS_60M),
                     self.tr("Both")], optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            self.INCLUDE_10M, self.tr("Include the original 10 m bands in the output"), defaultValue=True))
        self.addParameter(QgsProcessingParameterBoolean(
            self.CONSISTENCY, self.tr("Enforce consistency with the measured 20 m / 60 m pixels"), defaultValue=False))
        self.addParameter(QgsProcessingParameterExtent(
            self.EXTENT, self.tr("Area to process (default: all the inputs cover)"), optional=True))
        names = models.available_models(settings.model_folders())
        self.addParameter(QgsProcessingParameterEnum(
            self.MODEL, self.tr("Model"), options=names, defaultValue=0 if names else None))
        self.addParameter(QgsProcessingParameterEnum(
            self.DEVICE, self.tr("Device"), options=list(settings.DEVICES),
            defaultValue=int(settings.value(settings.DEVICE, 0))))
        tile = QgsProcessingParameterNumber(
            self.TILE_SIZE, self.tr("Tile size: 10 m pixels read and written at once (0: automatic; does not change "
                                    "the result)"),
            QgsProcessingParameterNumber.Integer, defaultValue=int(settings.value(settings.TILE_SIZE, 0)),
            minValue=0, maxValue=16384)
        tile.setFlags(tile.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(tile)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Super-resolved bands")))

    def _path(self, layer, name):
        if layer.providerType() != "gdal":
            raise QgsProcessingException(self.tr("{}: the layer {} is not a GDAL raster; save it as a GeoTIFF "
                                                 "first").format(name, layer.name()))
        return layer.source()

    def _source(self, parameters, name, context):
        layer = self.parameterAsRasterLayer(parameters, name, context)
        return None if layer is None else self._path(layer, name)

    def _inputs(self, parameters, context, folder):
        """The scene as a core Product: the PRODUCT, the BANDS files (stacked as VRTs in `folder`), or the stacks."""
        from ..core.product import Product, band_files, open_product

        product = self.parameterAsFile(parameters, self.PRODUCT, context)
        layers = self.parameterAsLayerList(parameters, self.BANDS, context)
        given = [self._source(parameters, n, context) for n in (self.INPUT_10M, self.INPUT_20M, self.INPUT_60M)]
        if sum((bool(product), bool(layers), any(given))) > 1:
            raise QgsProcessingException(self.tr("Give one kind of input: a product (PRODUCT), the single-band files "
                                                 "(BANDS), or the band stacks (INPUT_10M, INPUT_20M, INPUT_60M)"))
        if product:
            return open_product(product, folder)
        if layers:
            return band_files([self._path(layer, self.BANDS) for layer in layers], folder)
        if not (given[0] and given[1]):
            raise QgsProcessingException(self.tr("Give a Sentinel-2 product (PRODUCT), the single-band files (BANDS), "
                                                 "or the 10 m and 20 m band stacks (INPUT_10M, INPUT_20M)"))
        return Product(dict(zip((1, 2, 6), given)))

    def processAlgorithm(self, parameters, context, feedback):
        try:
            import torch  # noqa: F401
        except ImportError as err:
            raise QgsProcessingException(self.tr(
                "PyTorch is needed but cannot be imported by QGIS's Python ({}): {}. Run the algorithm "
                "'Install PyTorch for this plugin' (s2sr:installdependencies), or install it yourself for that "
                "Python: `python3 -m pip install torch` (the CPU build is enough).").format(
                    sys.version.split()[0], err)) from err

        folder = "/vsimem/s2sr_%s" % uuid.uuid4().hex
        try:
            return self._run(parameters, context, feedback, folder)
        finally:
            for name in gdal.ReadDir(folder) or []:
                gdal.Unlink("%s/%s" % (folder, name))

    def _run(self, parameters, context, feedback, folder):
        from ..core.errors import Cancelled, InputError
        from ..core.pipeline import super_resolve

        folders = settings.model_folders()
        names = models.available_models(folders)
        if not names:
            raise QgsProcessingException(self.tr("No trained models are installed in {}").format(", ".join(folders)))
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        try:
            scene = self._inputs(parameters, context, folder)
            if parameters.get(self.TARGETS) is None:
                targets = TARGET_GROUPS[2 if scene.stacks[6] else 0]
            else:
                targets = TARGET_GROUPS[self.parameterAsEnum(parameters, self.TARGETS, context)]
            extent = None
            if parameters.get(self.EXTENT) is not None:
                crs = QgsRasterLayer(scene.stacks[1], "10 m", "gdal").crs()
                area = self.parameterAsExtent(parameters, self.EXTENT, context, crs)
                extent = (area.xMinimum(), area.yMinimum(), area.xMaximum(), area.yMaximum())
            bands = super_resolve(
                scene.stacks[1],
                scene.stacks[2],
                output,
                input_60m=scene.stacks[6],
                targets=targets,
                include_10m=self.parameterAsBoolean(parameters, self.INCLUDE_10M, context),
                enforce_consistency=self.parameterAsBoolean(parameters, self.CONSISTENCY, context),
                extent=extent,
                model=names[self.parameterAsEnum(parameters, self.MODEL, context)],
                model_dirs=folders,
                device=settings.DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
                threads=int(settings.value(settings.THREADS, 0)),
                tile_size=self.parameterAsInt(parameters, self.TILE_SIZE, context),
                progress=feedback.setProgress,
                is_cancelled=feedback.isCanceled,
                log=feedback.pushInfo,
                offsets=scene.offsets,
                valid_mask=scene.valid_mask,
                extra_metadata=scene.metadata,
            )
        except (InputError, OSError) as err:  # OSError: unreadable weights or output, message names the file
            raise QgsProcessingException(str(err)) from err
        except Cancelled as err:
            raise QgsProcessingException(self.tr("Cancelled: no output was written")) from err
        if context.willLoadLayerOnCompletion(output):
            details = context.layerToLoadOnCompletionDetails(output)
            details.name = layer_name(bands)
            details.setPostProcessor(StylePostProcessor.create(bands))
        return {self.OUTPUT: output}
