"""Processing algorithms s2sr:multitemporal and s2sr:evaluatemultitemporal."""
from qgis.core import (
    QgsProcessingParameterBoolean,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
)

from ..core.bands import BANDS_10M
from .base import ReportOutputs, S2SRAlgorithm
from .compat import FILE, INTEGER
from .style import StylePostProcessor


class SeriesAlgorithm(S2SRAlgorithm):
    """What the algorithms on a time series share: the acquisitions, the reference, how many others, snow, the area."""

    INPUTS = "INPUTS"
    REFERENCE = "REFERENCE"
    FRAMES = "FRAMES"
    SNOW = "SNOW"
    EXTENT = "EXTENT"

    def addSeriesParameters(self, area):
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.INPUTS, self.tr("Acquisitions of one place: products (.zip, MTD_MSIL1C/2A.xml) or rasters of B2 B3 B4 "
                                 "B8 with the date (YYYYMMDD) in their name"), FILE))
        self.addParameter(QgsProcessingParameterString(
            self.REFERENCE, self.tr("Reference date to super-resolve, YYYY-MM-DD (default: the latest usable one)"),
            optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            self.FRAMES, self.tr("Other acquisitions to use at most (the nearest in time)"), INTEGER, defaultValue=8,
            minValue=0, maxValue=32))
        self.addParameter(QgsProcessingParameterBoolean(
            self.SNOW, self.tr("Treat snow as unusable, as clouds are"), defaultValue=False))
        self.addParameter(QgsProcessingParameterExtent(self.EXTENT, area, optional=True))

    def series(self, parameters, context):
        """(the acquisitions' paths, the run.multitemporal.SeriesOptions of the parameters)."""
        from ..run.multitemporal import SeriesOptions

        extent = crs = None
        if parameters.get(self.EXTENT) is not None:
            area = self.parameterAsExtent(parameters, self.EXTENT, context)
            extent = (area.xMinimum(), area.yMinimum(), area.xMaximum(), area.yMaximum())
            crs = self.parameterAsExtentCrs(parameters, self.EXTENT, context)
        options = SeriesOptions(extent=extent, extent_crs=crs.toWkt() if crs and crs.isValid() else "",
                                reference=self.parameterAsString(parameters, self.REFERENCE, context).strip(),
                                frames=self.parameterAsInt(parameters, self.FRAMES, context),
                                snow=self.parameterAsBoolean(parameters, self.SNOW, context))
        return self.parameterAsFileList(parameters, self.INPUTS, context), options


class MultiTemporalAlgorithm(SeriesAlgorithm):
    """Fuse several acquisitions of one place into the reference's B2 B3 B4 B8 at twice its resolution."""

    CONSISTENCY = "CONSISTENCY"
    OUTPUT = "OUTPUT"
    ALL_DATES = "ALL_DATES"

    def name(self):
        return "multitemporal"

    def displayName(self):
        return self.tr("Super-resolve a Sentinel-2 time series")

    def initAlgorithm(self, config=None):
        self.addSeriesParameters(self.tr("Area to process (default: all of the reference)"))
        self.addParameter(QgsProcessingParameterBoolean(
            self.CONSISTENCY, self.tr("Enforce consistency with the reference's measured 10 m pixels"),
            defaultValue=False))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT, self.tr("Super-resolved B2 B3 B4 B8 at twice the resolution")))
        self.addParameter(QgsProcessingParameterFolderDestination(
            self.ALL_DATES, self.tr("Also every date as the reference in turn, <date>.tif each (a rolling window)"),
            optional=True, createByDefault=False))

    def process(self, parameters, context, feedback):
        import os
        import shutil
        from dataclasses import replace

        from ..run.multitemporal import super_resolve_dates, super_resolve_series

        inputs, options = self.series(parameters, context)
        options = replace(options, consistency=self.parameterAsBoolean(parameters, self.CONSISTENCY, context))
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        folder = self.parameterAsString(parameters, self.ALL_DATES, context) if parameters.get(self.ALL_DATES) else ""
        results = {self.OUTPUT: output}
        if folder:  # every date; OUTPUT the reference's (the given date, else the latest made)
            made = super_resolve_dates(inputs, folder, options, feedback.setProgress, feedback.isCanceled,
                                       feedback.pushInfo)
            date = options.reference if options.reference in made else sorted(made)[-1]
            shutil.copyfile(os.path.join(folder, date + ".tif"), output)
            items, results[self.ALL_DATES] = made[date], folder
        else:
            items = super_resolve_series(inputs, output, options, feedback.setProgress, feedback.isCanceled,
                                         feedback.pushInfo)
        if context.willLoadLayerOnCompletion(output):
            details = context.layerToLoadOnCompletionDetails(output)
            details.name = self.tr("B2 B3 B4 B8 of {} at {} m (S2 time series, {} dates)").format(
                items["S2SR_REFERENCE_DATE"], items["S2SR_RESOLUTION"], len(items["S2SR_FRAMES"].split()))
            details.setPostProcessor(StylePostProcessor.create(BANDS_10M))
        return results


class EvaluateSeriesAlgorithm(ReportOutputs, SeriesAlgorithm):
    """Score the fusion of a time series on the series itself by the Wald protocol, beside the single image and the
    classical multi-frame baselines."""

    def name(self):
        return "evaluatemultitemporal"

    def displayName(self):
        return self.tr("Evaluate super-resolution of a Sentinel-2 time series")

    def initAlgorithm(self, config=None):
        self.addSeriesParameters(self.tr("Area to evaluate (default: all of the reference; at most 4 million pixels "
                                         "at 10 m)"))
        self.addReportParameters()

    def process(self, parameters, context, feedback):
        from ..core.outputs import check_outputs
        from ..run.multitemporal import SERIES_TITLE, evaluate_series

        inputs, options = self.series(parameters, context)
        targets = self.reportTargets(parameters, context)
        check_outputs(targets, inputs)
        results = evaluate_series(inputs, options, feedback.pushInfo)
        return self.writeReports(results, self.tr(SERIES_TITLE), targets, feedback)
