"""The plugin in a QGIS window: Raster menu entry and toolbar button open the algorithm dialog."""
import os

from qgis.gui import QgsBrowserGuiModel

import s2sr


def test_menu_and_toolbar_open_the_dialog(qgis_iface, qgis_processing):
    browser = QgsBrowserGuiModel()
    qgis_iface.browserModel = lambda: browser  # the mock iface lacks one; the Processing dialog asks for it
    plugin = s2sr.classFactory(qgis_iface)
    plugin.initGui()
    try:
        qgis_iface.addPluginToRasterMenu.assert_called_once_with("Sentinel-2 super-resolution", plugin.action)
        qgis_iface.addRasterToolBarIcon.assert_called_once_with(plugin.action)
        plugin.action.trigger()
        assert plugin.dialog is not None and plugin.dialog.isVisible()
        assert plugin.dialog.algorithm().id() == "s2sr:superresolve"
        plugin.dialog.close()
    finally:
        plugin.unload()
    qgis_iface.removePluginRasterMenu.assert_called_once()
    assert plugin.provider is None


def _run_task(params, cancel=False):
    import time

    from qgis.core import (QgsApplication, QgsProcessingAlgRunnerTask, QgsProcessingContext,
                           QgsProcessingFeedback)
    from qgis.PyQt.QtCore import QCoreApplication

    alg = QgsApplication.processingRegistry().createAlgorithmById("s2sr:superresolve")
    context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
    task = QgsProcessingAlgRunnerTask(alg, params, context, feedback)
    done = []
    task.executed.connect(lambda ok, results: done.append(ok))
    if cancel:
        feedback.progressChanged.connect(lambda progress: task.cancel())
    QgsApplication.taskManager().addTask(task)
    deadline = time.time() + 300
    while not done and time.time() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.02)
    return done


def test_runs_as_a_background_task_and_cancels_there(provider, small_scene, tmp_path):
    params = {"INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"], "TILE_SIZE": 36}
    out = str(tmp_path / "sr.tif")
    assert _run_task(dict(params, OUTPUT=out)) == [True]
    assert os.path.exists(out)
    cancelled = str(tmp_path / "cancelled.tif")
    assert _run_task(dict(params, OUTPUT=cancelled), cancel=True) == [False]
    assert not os.path.exists(cancelled) and not [f for f in os.listdir(tmp_path) if f.startswith(".s2sr-")]
