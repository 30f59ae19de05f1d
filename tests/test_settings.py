"""Provider settings: defaults for device and tile size, CPU threads, and an extra folder of user models."""
import os
import shutil

import pytest
from osgeo import gdal
from processing.core.ProcessingConfig import ProcessingConfig
from qgis.core import QgsApplication

import processing
from s2sr import models
from s2sr.algorithms import settings


@pytest.fixture
def restore_settings(provider):
    saved = {n: ProcessingConfig.getSetting(n) for n in (settings.TILE_SIZE, settings.MODELS_FOLDER)}
    yield
    for name, v in saved.items():
        ProcessingConfig.setSettingValue(name, v)
    provider.refreshAlgorithms()


def algorithm():
    return QgsApplication.processingRegistry().algorithmById("s2sr:superresolve")


def test_settings_are_in_the_provider_group(provider):
    group = ProcessingConfig.getSettings()[provider.name()]
    assert {s.name for s in group} == {settings.DEVICE, settings.TILE_SIZE, settings.THREADS, settings.MODELS_FOLDER}


def test_default_tile_size_comes_from_the_settings(provider, restore_settings):
    ProcessingConfig.setSettingValue(settings.TILE_SIZE, 240)
    provider.refreshAlgorithms()
    assert algorithm().parameterDefinition("TILE_SIZE").defaultValue() == 240


def test_user_models_folder_adds_models_chosen_by_name(provider, small_scene, tmp_path, restore_settings):
    """A user's model is run by its name; the default stays the shipped model though the user's sorts first, and an
    index or an unknown name is refused with the installed models named."""
    from qgis.core import QgsProcessingException

    for scale in (2, 6):
        shutil.copy(models.weights_path("dsen2_oscd", scale), tmp_path / ("aaa_region_%dx.pt" % scale))
    ProcessingConfig.setSettingValue(settings.MODELS_FOLDER, str(tmp_path))
    provider.refreshAlgorithms()
    definition = algorithm().parameterDefinition("MODEL")
    assert definition.options() == ["aaa_region", "dsen2_oscd"] and definition.defaultValue() == "dsen2_oscd"
    params = {"INPUT_10M": small_scene["10m"], "INPUT_20M": small_scene["20m"]}
    for model, runs in ((None, "dsen2_oscd"), ("aaa_region", "aaa_region"), ("dsen2_oscd", "dsen2_oscd")):
        out = str(tmp_path / ("sr_%s.tif" % model))
        processing.run("s2sr:superresolve", dict(params, OUTPUT=out, **({"MODEL": model} if model else {})))
        assert gdal.Open(out).GetMetadataItem("S2SR_MODEL") == runs
    for model, said in ((0, "takes the model's name, not a number"), ("nope", "No model named nope is installed")):
        with pytest.raises(QgsProcessingException, match=said + ".*installed: aaa_region, dsen2_oscd"):
            processing.run("s2sr:superresolve", dict(params, MODEL=model, OUTPUT=str(tmp_path / "never.tif")))
    assert not os.path.exists(str(tmp_path / "never.tif"))


def test_a_model_written_by_finetune_appears_in_model_at_once(provider, tmp_path, restore_settings):
    """s2sr:finetune refreshes the provider when it ends (on the main thread), so MODEL lists the new model."""
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    ProcessingConfig.setSettingValue(settings.MODELS_FOLDER, str(tmp_path))
    provider.refreshAlgorithms()
    assert "tuned" not in algorithm().parameterDefinition("MODEL").options()
    for scale in (2, 6):  # what the fine-tuning wrote
        shutil.copy(models.weights_path("dsen2_oscd", scale), tmp_path / ("tuned_%dx.pt" % scale))
    finetune = QgsApplication.processingRegistry().algorithmById("s2sr:finetune").create()
    finetune.postProcessAlgorithm(QgsProcessingContext(), QgsProcessingFeedback())
    assert "tuned" in algorithm().parameterDefinition("MODEL").options()
    assert settings.user_models_folder() == str(tmp_path)
