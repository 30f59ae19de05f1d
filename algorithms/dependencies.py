"""PyTorch and ONNX Runtime for QGIS's Python: detect them, and install them into a folder private to the plugin."""
import os
import re
import shutil
import subprocess
import sys

from ..core.paths import PLUGIN_DIR
from ..core.devices import importable

REQUIREMENTS = os.path.join(PLUGIN_DIR, "requirements.txt")
#: CPU-only builds of torch (PyPI's Linux wheels pull several GB of CUDA libraries)
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def requirements():
    """The plugin's requirement lines (e.g. 'torch==2.13.0')."""
    with open(REQUIREMENTS) as f:
        return [line.split("#")[0].strip() for line in f if line.split("#")[0].strip()]


def needs_torch(requirement):
    """Whether a requirement is of use only with PyTorch (torch itself; onnx, which exports its networks)."""
    return re.split(r"[<>=!~\[; ]", requirement.strip().lower())[0] in ("torch", "onnx")


def backend_available():
    """Whether PyTorch or ONNX Runtime, which run the networks, can be imported (looked up without importing them:
    QGIS start-up stays fast)."""
    return any(map(importable, ("torch", "onnxruntime")))


def python_executable():
    """The Python interpreter QGIS embeds (inside QGIS, sys.executable is often QGIS itself)."""
    name = "python.exe" if os.name == "nt" else "python3"
    candidates = [sys.executable, os.path.join(sys.exec_prefix, "bin", name), os.path.join(sys.exec_prefix, name),
                  shutil.which(name)]
    for path in candidates:
        if path and os.path.basename(path).lower().startswith("python") and os.access(path, os.X_OK):
            return path
    raise RuntimeError("cannot find the Python interpreter of this QGIS (looked for %s)"
                       % ", ".join(filter(None, candidates)))


def install_command(packages, target):
    """pip command that installs `packages` into `target`, taking torch's CPU build on Linux."""
    command = [python_executable(), "-m", "pip", "install", "--upgrade", "--target", target, *packages]
    if sys.platform.startswith("linux") and any(p.startswith("torch") for p in packages):
        command[4:4] = ["--extra-index-url", TORCH_CPU_INDEX]
    return command


def install(packages, target, log, is_cancelled):
    """Run pip, passing its output line by line to `log`; returns pip's exit code (None if cancelled)."""
    os.makedirs(target, exist_ok=True)
    process = subprocess.Popen(install_command(packages, target), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    for line in process.stdout:
        log(line.rstrip())
        if is_cancelled():
            process.kill()
            process.wait()
            return None
    if target not in sys.path:
        sys.path.append(target)
    return process.wait()
