"""The plugin in a QGIS window: Raster menu entry and toolbar button open the algorithm dialog."""
import os

import pytest
from qgis.gui import QgsBrowserGuiModel

import s2sr


@pytest.fixture
def iface(qgis_iface):
    browser = QgsBrowserGuiModel()
    qgis_iface.browserModel = lambda: browser  # the mock iface lacks one; the Processing dialog asks for it
    qgis_iface.addPluginToRasterMenu.reset_mock()
    qgis_iface.removePluginRasterMenu.reset_mock()
    return qgis_iface


def test_menu_and_toolbar_open_the_dialog(iface, qgis_processing):
    qgis_iface = iface
    plugin = s2sr.classFactory(qgis_iface)
    plugin.initGui()
    try:
        qgis_iface.addPluginToRasterMenu.assert_any_call("Sentinel-2 super-resolution", plugin.action)
        qgis_iface.addRasterToolBarIcon.assert_called_once_with(plugin.action)
        plugin.action.trigger()
        assert plugin.dialog is not None and plugin.dialog.isVisible()
        assert plugin.dialog.algorithm().id() == "s2sr:superresolve"
        plugin.dialog.close()
        plugin.actions[1].trigger()
        assert plugin.dialog.algorithm().id() == "s2sr:finetune"
        plugin.dialog.close()
    finally:
        plugin.unload()
    assert qgis_iface.removePluginRasterMenu.call_count == 2
    assert plugin.provider is None


def test_without_torch_the_menu_offers_the_installer(iface, qgis_processing, monkeypatch):
    from s2sr.algorithms import dependencies

    monkeypatch.setattr(dependencies, "backend_available", lambda: False)
    plugin = s2sr.classFactory(iface)
    plugin.initGui()
    try:
        assert iface.addPluginToRasterMenu.call_count == 3
        from qgis.core import Qgis

        assert any("Install PyTorch" in m for m in iface.messageBar().get_messages(Qgis.Warning))
        plugin.actions[2].trigger()
        assert plugin.dialog.algorithm().id() == "s2sr:installdependencies"
        plugin.dialog.close()
    finally:
        plugin.unload()
    assert iface.removePluginRasterMenu.call_count == 3


def test_installer_pip_installs_into_the_target_folder(provider, tmp_path):
    import processing

    result = processing.run("s2sr:installdependencies", {"PACKAGES": "six==1.16.0", "TARGET": str(tmp_path)})
    assert os.path.basename(result["PYTHON"]).startswith("python")
    assert (tmp_path / "six.py").exists()


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


def test_runs_as_a_background_task_and_cancels_there(provider, small_scene, scene, tmp_path):
    out = str(tmp_path / "sr.tif")
    assert _run_task({"INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"], "OUTPUT": out}) == [True]
    assert os.path.exists(out)
    cancelled = str(tmp_path / "cancelled.tif")  # the whole scene: 20 blocks, cancelled after the first
    assert _run_task({"INPUT_10M": scene["10m"], "INPUT_20M": scene["20m"], "OUTPUT": cancelled},
                     cancel=True) == [False]
    assert not os.path.exists(cancelled) and not [f for f in os.listdir(tmp_path) if f.startswith(".s2sr-")]
