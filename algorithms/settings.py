"""Provider settings, under Processing -> Options -> Providers -> Sentinel-2 super-resolution."""
import os

from processing.core.ProcessingConfig import ProcessingConfig, Setting
from qgis.PyQt.QtCore import QCoreApplication

from .. import models
from ..core.devices import DEVICES
from ..core.tiling import TILE_SIZES

DEVICE = "S2SR_DEVICE"
TILE_SIZE = "S2SR_TILE_SIZE"
THREADS = "S2SR_THREADS"
MODELS_FOLDER = "S2SR_MODELS_FOLDER"


def tr(string):
    return QCoreApplication.translate("S2SRSettings", string)


def add(provider):
    """Register the settings in the provider's group and read their saved values."""
    group = provider.name()
    ProcessingConfig.settingIcons[group] = provider.icon()
    for setting in (
        Setting(group, DEVICE, tr("Default device"), DEVICES[0], valuetype=Setting.SELECTION, options=list(DEVICES)),
        Setting(group, TILE_SIZE, tr("Default tile size (10 m pixels read and written at once; 0: automatic, "
                                     "%d on the CPU, %d on CUDA)") % (TILE_SIZES["cpu"], TILE_SIZES["cuda"]), 0),
        Setting(group, THREADS, tr("CPU threads (0: PyTorch's default, all cores)"), 0),
        Setting(group, MODELS_FOLDER, tr("Folder of your models (<name>_2x.pt and <name>_6x.pt, model cards); "
                                         "fine-tuned models are written there (empty: s2sr_models in the QGIS "
                                         "profile)"), "", valuetype=Setting.FOLDER),
    ):
        ProcessingConfig.addSetting(setting)
    ProcessingConfig.readSettings()


def remove():
    for name in (DEVICE, TILE_SIZE, THREADS, MODELS_FOLDER):
        ProcessingConfig.removeSetting(name)


def value(name, default):
    """A setting's value (the option's index for DEVICE), or `default` when unset (before the provider loads)."""
    v = ProcessingConfig.getSetting(name)
    return default if v in (None, "") else v


def user_models_folder():
    """The folder of the user's models: the setting, else s2sr_models in the QGIS profile."""
    from qgis.core import QgsApplication

    return value(MODELS_FOLDER, "") or os.path.join(QgsApplication.qgisSettingsDirPath(), "s2sr_models")


def model_folders():
    """The plugin's models folder, then the user's folder when it exists."""
    folder = user_models_folder()
    return (models.MODELS_DIR,) + ((folder,) if os.path.isdir(folder) else ())
