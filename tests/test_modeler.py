"""The algorithm inside a graphical model: Clip raster by extent -> s2sr:superresolve -> Raster calculator."""
import numpy as np
from osgeo import gdal
from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource as Source,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterExtent,
    QgsProcessingParameterRasterLayer,
    QgsProject,
)

BOX = (440040, 441960, 4168440, 4169880)  # xmin, xmax, ymin, ymax (EPSG:32618)


def with_defaults(child):
    """Give every parameter the modeler would fill with its default a static source, as the modeler does."""
    from qgis.core import QgsApplication, QgsProcessingDestinationParameter

    alg = QgsApplication.processingRegistry().algorithmById(child.algorithmId())
    for p in alg.parameterDefinitions():
        if p.name() not in child.parameterSources() and not isinstance(p, QgsProcessingDestinationParameter):
            child.addParameterSources(p.name(), [Source.fromStaticValue(p.defaultValue())])
    return child


def red_edge_model():
    """A model computing (B8 - B5) / (B8 + B5) at 10 m from clipped 10 m and 20 m band stacks."""
    model = QgsProcessingModelAlgorithm("Red-edge index at 10 m", "tests")
    for name in ("bands10", "bands20"):
        model.addModelParameter(QgsProcessingParameterRasterLayer(name, name), QgsProcessingModelParameter(name))
    model.addModelParameter(QgsProcessingParameterExtent("extent", "extent"), QgsProcessingModelParameter("extent"))
    for child_id, source in (("clip10", "bands10"), ("clip20", "bands20")):
        clip = QgsProcessingModelChildAlgorithm("gdal:cliprasterbyextent")
        clip.setChildId(child_id)
        clip.addParameterSources("INPUT", [Source.fromModelParameter(source)])
        clip.addParameterSources("PROJWIN", [Source.fromModelParameter("extent")])
        model.addChildAlgorithm(with_defaults(clip))
    sr = QgsProcessingModelChildAlgorithm("s2sr:superresolve")
    sr.setChildId("sr")
    sr.addParameterSources("INPUT_10M", [Source.fromChildOutput("clip10", "OUTPUT")])
    sr.addParameterSources("INPUT_20M", [Source.fromChildOutput("clip20", "OUTPUT")])
    sr.addParameterSources("INCLUDE_10M", [Source.fromStaticValue(True)])
    model.addChildAlgorithm(with_defaults(sr))
    calc = QgsProcessingModelChildAlgorithm("gdal:rastercalculator")
    calc.setChildId("calc")
    for letter, band in (("A", 7), ("B", 4)):  # output bands B2 B3 B4 B5 B6 B7 B8 ...: B8 is 7, B5 is 4
        calc.addParameterSources("INPUT_" + letter, [Source.fromChildOutput("sr", "OUTPUT")])
        calc.addParameterSources("BAND_" + letter, [Source.fromStaticValue(band)])
    calc.addParameterSources("FORMULA", [Source.fromStaticValue("(A.astype(float) - B) / (A.astype(float) + B)")])
    calc.addParameterSources("RTYPE", [Source.fromStaticValue(5)])  # Float32
    output = QgsProcessingModelOutput("index", "red-edge index")
    output.setChildOutputName("OUTPUT")
    calc.setModelOutputs({"index": output})
    model.addChildAlgorithm(with_defaults(calc))
    return model


def test_model_chains_clip_superresolve_and_calculator(provider, scene, tmp_path):
    model = red_edge_model()
    ok, problems = model.validate()
    assert ok, problems
    out = str(tmp_path / "index.tif")
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    model.initAlgorithm({})
    # the model's own name for its result (QGIS 3.22: "calc:index", 3.40: from the output's description)
    (destination,), (result,) = model.destinationParameterDefinitions(), model.outputDefinitions()
    params = {"bands10": scene["10m"], "bands20": scene["20m"], "extent": "%f,%f,%f,%f [EPSG:32618]" % BOX,
              destination.name(): out}
    results, ok = model.run(params, context, QgsProcessingFeedback())
    assert ok and results[result.name()] == out
    ds = gdal.Open(out)
    assert ds.GetGeoTransform()[1] == 10
    assert (ds.RasterXSize, ds.RasterYSize) == (192, 144)
    index = ds.ReadAsArray()
    assert np.isfinite(index).all() and -1 <= index.min() < index.max() <= 1
    assert index.std() > 0.02  # a real index over fields and water, not a constant
