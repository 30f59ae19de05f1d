"""Styling of the result layers: the sharpened bands as a false-colour composite with a cumulative-cut stretch from
the data (the picked bands' own composite where the usual ones lack a band, one band in grey where fewer than three);
the confidence map (expected error per pixel) with a sequential colour ramp and a legend in DN."""
import os

from qgis.core import (
    QgsColorRampShader,
    QgsContrastEnhancement,
    QgsMultiBandColorRenderer,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterShader,
    QgsSingleBandGrayRenderer,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
)
from qgis.PyQt.QtCore import QCoreApplication

from ..core.paths import RESOURCES_DIR
from ..core.bands import BANDS_10M
from ..core.gdal_calls import opened
from .compat import ALL_STYLE_CATEGORIES, EQUAL_INTERVAL, LINEAR, STRETCH_MIN_MAX

STYLE = os.path.join(RESOURCES_DIR, "composite.qml")
#: red, green, blue: SWIR false colour first, then red-edge and 60 m composites, then true colour
COMPOSITES = (("B12", "B8A", "B4"), ("B12", "B8A", "B5"), ("B11", "B8", "B4"), ("B9", "B8", "B1"), ("B4", "B3", "B2"))


def span(bands):
    """'B5-B12' for many bands, 'B11 B12' for up to three."""
    return " ".join(bands) if len(bands) <= 3 else "%s-%s" % (bands[0], bands[-1])


def layer_name(bands, resolution=10):
    """E.g. 'B5-B12 at 10 m (S2 super-resolved)'."""
    sharpened = [b for b in bands if b not in BANDS_10M] or list(bands)
    return QCoreApplication.translate("S2SRStyle", "{} at {:g} m (S2 super-resolved)").format(
        span(sharpened), resolution)


def stretch(provider, band, origin):
    """Min-max contrast enhancement between the cumulative-cut limits of `origin` (QgsRasterMinMaxOrigin)."""
    low, high = provider.cumulativeCut(band, origin.cumulativeCutLower(), origin.cumulativeCutUpper(),
                                       sampleSize=250000)
    enhancement = QgsContrastEnhancement(provider.dataType(band))
    enhancement.setContrastEnhancementAlgorithm(STRETCH_MIN_MAX)
    enhancement.setMinimumValue(low)
    enhancement.setMaximumValue(high)
    return enhancement


def apply_style(layer, bands):
    """Load the style from resources/ (renderer, cumulative-cut limits) and fit bands and stretch to the data."""
    layer.loadNamedStyle(STYLE)
    origin = layer.renderer().minMaxOrigin()
    provider = layer.dataProvider()
    rgb = next((c for c in COMPOSITES if set(c) <= set(bands)), None)
    if rgb is None and len(bands) >= 3:  # the longest, a middle and the shortest wavelength picked
        rgb = (bands[-1], bands[len(bands) // 2], bands[0])
    if rgb is None:  # one or two bands: the last (the longer wavelength) in grey
        renderer = QgsSingleBandGrayRenderer(provider, len(bands))
        renderer.setContrastEnhancement(stretch(provider, len(bands), origin))
    else:
        red, green, blue = (bands.index(b) + 1 for b in rgb)
        renderer = QgsMultiBandColorRenderer(provider, red, green, blue)
        renderer.setRedContrastEnhancement(stretch(provider, red, origin))
        renderer.setGreenContrastEnhancement(stretch(provider, green, origin))
        renderer.setBlueContrastEnhancement(stretch(provider, blue, origin))
    renderer.setMinMaxOrigin(origin)
    layer.setRenderer(renderer)
    layer.triggerRepaint()


def confidence_layer_name(bands):
    """E.g. 'Expected error of B5-B12 (DN, S2 super-resolved)'."""
    return QCoreApplication.translate("S2SRStyle", "Expected error of {} (DN, S2 super-resolved)").format(span(bands))


def apply_confidence_style(layer, bands):
    """The first band's expected error on a sequential ramp (magma) from its 2nd to its 98th percentile, five
    classes in the legend, labelled in DN."""
    provider = layer.dataProvider()
    low, high = provider.cumulativeCut(1, 0.02, 0.98, sampleSize=250000)
    ramp = QgsStyle.defaultStyle().colorRamp("Magma")
    function = QgsColorRampShader(low, high, ramp, LINEAR, EQUAL_INTERVAL)
    function.classifyColorRamp(5, -1)
    items = function.colorRampItemList()
    for item in items:
        item.label = QCoreApplication.translate("S2SRStyle", "{:.0f} DN").format(item.value)
    function.setColorRampItemList(items)
    shader = QgsRasterShader(low, high)
    shader.setRasterShaderFunction(function)
    renderer = QgsSingleBandPseudoColorRenderer(provider, 1, shader)
    renderer.setClassificationMin(low)
    renderer.setClassificationMax(high)
    layer.setRenderer(renderer)
    layer.triggerRepaint()


def describe(layer):
    """The layer's metadata (Layer Properties > Metadata): its abstract lists what made it, the model, the
    self-check's verdict per band, the source product, from the file's S2SR_ metadata items."""
    ds = opened(layer.source())
    items = {k: v for k, v in (ds.GetMetadata() if ds else {}).items() if k.startswith("S2SR_")}
    metadata = layer.metadata()
    metadata.setTitle(layer.name())
    metadata.setAbstract("\n".join("%s: %s" % (k[len("S2SR_"):].replace("_", " ").lower(), v)
                                    for k, v in sorted(items.items())))
    layer.setMetadata(metadata)


class StylePostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Styles the output layer once Processing has loaded it (on the main thread)."""

    _alive = []  # Processing keeps only a C++ pointer: hold the Python objects

    def __init__(self, bands, style):
        super().__init__()
        self.bands, self.style = list(bands), style

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS's name)
        self.style(layer, self.bands)
        describe(layer)
        # <output>.qml beside the file (the layer's default style): the style also applies when it is opened later
        layer.saveNamedStyle(layer.styleURI(), ALL_STYLE_CATEGORIES)
        layer.saveDefaultMetadata()  # <output>.qmd beside it: so does the description

    @classmethod
    def create(cls, bands, style=apply_style):
        cls._alive.append(cls(bands, style))
        return cls._alive[-1]
