"""Processing algorithm s2sr:evaluate."""
from qgis.core import QgsProcessingParameterRasterDestination

from .base import ReportOutputs
from .scene import SceneAlgorithm


class EvaluateAlgorithm(ReportOutputs, SceneAlgorithm):
    """Score a model on the user's scene by the Wald protocol, beside bicubic and HPF pan-sharpening."""

    ERRORS_20M = "ERRORS_20M"
    ERRORS_60M = "ERRORS_60M"

    def name(self):
        return "evaluate"

    def displayName(self):
        return self.tr("Evaluate super-resolution on a scene")

    def initAlgorithm(self, config=None):
        self.addSceneParameters()
        self.addAreaAndModelParameters(self.tr("Area to evaluate (default: all the inputs cover)"), cards=True)
        self.addReportParameters()
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.ERRORS_20M, self.tr("Absolute error of the 20 m bands (2x model)"), optional=True,
            createByDefault=False))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.ERRORS_60M, self.tr("Absolute error of the 60 m bands (6x model)"), optional=True,
            createByDefault=False))

    def process_scene(self, parameters, context, feedback, folder):
        from ..run import evaluation, reports
        from ..core.outputs import check_outputs

        model, folders = self.model(parameters, context, cards=True)
        scene = self.scene(parameters, context, folder)
        targets = dict(self.reportTargets(parameters, context),
                       **{key: self.parameterAsOutputLayer(parameters, key, context)
                          for key in (self.ERRORS_20M, self.ERRORS_60M)})
        check_outputs(targets, list(scene.stacks.values()) + [scene.valid_mask],
                      rasters=(self.ERRORS_20M, self.ERRORS_60M))
        pixels, grid = evaluation.read_scene(scene.stacks[1], scene.stacks[2], scene.stacks[6],
                                             self.extent(parameters, context, scene), scene.offsets)
        model = evaluation.open_for_evaluation(model, scene.stacks[6], folders, feedback.pushInfo)
        feedback.pushInfo(self.tr("Evaluating {} on {} x {} pixels at 10 m: {}").format(
            model.name, grid.cols, grid.rows, model.scales))
        results = evaluation.evaluate_scene(pixels, model)
        outputs = self.writeReports(results, self.tr("Super-resolution quality of {} on this scene").format(
            model.name), targets, feedback)
        for factor, key in ((2, self.ERRORS_20M), (6, self.ERRORS_60M)):  # the bands measured at 20 m, at 60 m
            for r in results.values():
                if targets[key] and r["factor"] == factor:
                    reports.write_errors(r, grid, targets[key])
                    outputs[key] = targets[key]
        return outputs
