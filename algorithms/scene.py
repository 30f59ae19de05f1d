"""Base of the algorithms that read one Sentinel-2 scene: its input parameters (a product, the band files, or
three band stacks), the area, the model, and the translation of core errors into Processing errors."""
import uuid

from qgis.core import (
    QgsCoordinateTransform,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterRasterLayer,
    QgsRasterLayer,
)
from ..core.gdal_calls import remove_files

from .. import models
from ..models.cards import find_cards, read_card
from . import settings
from .base import S2SRAlgorithm
from .compat import RASTER


class SceneAlgorithm(S2SRAlgorithm):
    """A Processing algorithm over one Sentinel-2 scene; subclasses implement `process_scene(...)`."""

    PRODUCT = "PRODUCT"
    INPUT_10M = "INPUT_10M"
    INPUT_20M = "INPUT_20M"
    INPUT_60M = "INPUT_60M"
    BANDS = "BANDS"
    EXTENT = "EXTENT"
    MODEL = "MODEL"

    def addSceneParameters(self):
        """The inputs: a product, or three band stacks, or the single-band files."""
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
            RASTER, optional=True))

    def addAreaAndModelParameters(self, area_label, cards=False):
        """EXTENT and MODEL, chosen by name: the installed models, and with `cards` also the model cards in the models
        folders; the default is the shipped model, whatever else is installed."""
        self.addParameter(QgsProcessingParameterExtent(self.EXTENT, area_label, optional=True))
        self.addParameter(QgsProcessingParameterEnum(
            self.MODEL, self.tr("Model"), options=list(self.model_options(cards)), defaultValue=models.DEFAULT,
            usesStaticStrings=True))

    def model_options(self, cards):
        """{MODEL value: the model's name, or the path of a model card}."""
        folders = settings.model_folders()
        options = {name: name for name in models.available_models(folders)}
        if cards:
            options.update((self.tr("{} (model card)").format(name), path)
                           for name, path in find_cards(folders).items())
        return options

    def checkParameterValues(self, parameters, context):  # noqa: N802 (QGIS's name)
        """MODEL first, with a message that names the installed models (QGIS's own only says the value is wrong)."""
        value = parameters.get(self.MODEL)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            options = self.parameterDefinition(self.MODEL).options()
            if str(value) not in options:
                installed = ", ".join(options)
                if str(value).strip().isdigit():
                    return False, self.tr("MODEL takes the model's name, not a number (since version 0.5), e.g. "
                                          "MODEL={}; installed: {}").format(models.DEFAULT, installed)
                return False, self.tr("No model named {} is installed; installed: {}").format(value, installed)
        return super().checkParameterValues(parameters, context)

    def _path(self, layer, name):
        if layer.providerType() != "gdal":
            raise QgsProcessingException(self.tr("{}: the layer {} is not a GDAL raster; save it as a GeoTIFF "
                                                 "first").format(name, layer.name()))
        return layer.source()

    def _source(self, parameters, name, context):
        layer = self.parameterAsRasterLayer(parameters, name, context)
        return None if layer is None else self._path(layer, name)

    def scene(self, parameters, context, folder):
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
        return Product.from_stacks(*given)

    def extent(self, parameters, context, scene):
        """The EXTENT in the 10 m bands' CRS as (xmin, ymin, xmax, ymax), or None."""
        if parameters.get(self.EXTENT) is None:
            return None
        layer = QgsRasterLayer(scene.stacks[1], "10 m", "gdal")
        area = self.parameterAsExtent(parameters, self.EXTENT, context, layer.crs())
        given_crs = self.parameterAsExtentCrs(parameters, self.EXTENT, context)
        given_crs = given_crs if given_crs.isValid() else layer.crs()
        given = self.parameterAsExtent(parameters, self.EXTENT, context, given_crs)
        cover = QgsCoordinateTransform(layer.crs(), given_crs, context.transformContext()).transformBoundingBox(
            layer.extent())
        digits = 6 if given_crs.isGeographic() else 1
        self.outside = self.tr("The area {} [{}] does not overlap the input rasters, whose 10 m bands cover {} [{}]: "
                               "choose an area inside the scene").format(
            given.toString(digits), given_crs.authid(), cover.toString(digits), given_crs.authid())
        return area.xMinimum(), area.yMinimum(), area.xMaximum(), area.yMaximum()

    def model(self, parameters, context, cards=False):
        """(model name, or the models.cards.Card of a card among the options with `cards`; model folders)."""
        folders = settings.model_folders()
        value = self.parameterAsEnumString(parameters, self.MODEL, context)
        chosen = self.model_options(cards).get(value)
        if chosen is None or chosen == value:  # a model of the plugin's, or none by that name: the core names them
            return models.resolve(chosen or value, folders), folders
        return read_card(chosen), folders

    def process(self, parameters, context, feedback):
        from ..core.errors import ExtentError

        folder = "/vsimem/s2sr_%s" % uuid.uuid4().hex
        try:
            return self.process_scene(parameters, context, feedback, folder)
        except ExtentError as err:  # the core names the extent in the rasters' CRS; the user's words instead
            raise QgsProcessingException(self.outside) from err
        finally:
            remove_files(folder)

    def process_scene(self, parameters, context, feedback, folder):
        """Do the work; `folder` is a /vsimem folder for temporary VRTs, emptied afterwards."""
        raise NotImplementedError
