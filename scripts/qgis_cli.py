"""Run qgis_process.bin headless with this plugin enabled in a private profile."""
import os
import subprocess
import sysconfig

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGINS = os.path.join(REPO, "build", "plugins")


def qgis_env(profile, from_checkout=True):
    """Environment for qgis_process: offscreen, torch from this venv, `profile` as config, the plugin enabled.

    from_checkout: load the plugin from this checkout (QGIS_PLUGINPATH); else from the profile's own plugins.
    """
    site = sysconfig.get_paths()["purelib"]  # torch
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=profile,
               PYTHONPATH=os.pathsep.join(filter(None, [site, os.environ.get("PYTHONPATH")])))
    env.pop("QGIS_PLUGINPATH", None)
    if from_checkout:
        if not os.path.exists(os.path.join(PLUGINS, "s2sr")):
            os.makedirs(PLUGINS, exist_ok=True)
            os.symlink(REPO, os.path.join(PLUGINS, "s2sr"))
        env["QGIS_PLUGINPATH"] = PLUGINS
    enable = qgis_process(env, "plugins", "enable", "s2sr")
    if enable.returncode and "already enabled" not in enable.stdout + enable.stderr:
        raise RuntimeError("cannot enable the plugin in %s:\n%s%s" % (profile, enable.stdout, enable.stderr))
    return env


def qgis_process(env, *args, **kwargs):
    """Run qgis_process.bin with `args` (and subprocess.run's `kwargs`); returns the CompletedProcess (text output
    captured)."""
    return subprocess.run(["qgis_process.bin", *args], env=env, capture_output=True, text=True, timeout=1800, **kwargs)
