"""`make package` gives a zip that installs into a fresh QGIS profile."""
import configparser
import glob
import os
import re
import subprocess
import sys
import zipfile

from conftest import REPO

sys.path.insert(0, os.path.join(REPO, "scripts"))
from qgis_cli import qgis_env, qgis_process  # noqa: E402

REQUIRED = ("name", "qgisMinimumVersion", "description", "about", "version", "author", "email", "repository",
            "tracker", "homepage", "tags", "category", "icon", "hasProcessingProvider")


def test_metadata_is_complete():
    meta = configparser.ConfigParser()
    meta.read(os.path.join(REPO, "metadata.txt"))
    general = meta["general"]
    assert all(general.get(key) for key in REQUIRED)
    assert re.fullmatch(r"\d+\.\d+\.\d+", general["version"])
    assert general["qgisMinimumVersion"] == "3.22" and general["category"] == "Raster"
    assert general["qgisMaximumVersion"] == "4.99" and general["supportsQt6"] == "True"  # QGIS 4 (Qt 6) offered it
    assert general["hasProcessingProvider"] == "yes"
    assert os.path.exists(os.path.join(REPO, general["icon"]))
    from s2sr.algorithms.dependencies import requirements

    assert general["python_dependencies"].split() == requirements()


def test_zip_installs_into_an_empty_profile(tmp_path):
    subprocess.run(["make", "-s", "package"], cwd=REPO, check=True, capture_output=True)
    (archive,) = glob.glob(os.path.join(REPO, "dist", "s2sr-*.zip"))
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        assert all(n.startswith("s2sr/") for n in names)
        assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".so", ".dll", ".exe"))]
        assert {"s2sr/metadata.txt", "s2sr/__init__.py", "s2sr/LICENSE", "s2sr/models/dsen2_oscd_2x.pt",
                "s2sr/run/pipeline.py"} <= set(names)
        plugins = tmp_path / "profiles" / "default" / "python" / "plugins"
        z.extractall(plugins)
    env = qgis_env(str(tmp_path), from_checkout=False)
    listing = qgis_process(env, "list")
    assert "s2sr:superresolve" in listing.stdout, listing.stdout + listing.stderr
