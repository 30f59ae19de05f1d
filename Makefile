# Sentinel-2 super-resolution QGIS plugin. `make demo` and `make test` set the machine up on first use.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PLUGINS := $(CURDIR)/build/plugins
APT := qgis python3-qgis qgis-providers gdal-bin python3-gdal python3-venv python3-matplotlib
QGIS_LTR := 3.40# the QGIS the plugin is built and tested on: Debian 12's bookworm-backports
OLDEST := deps/qgis-3.22# a Debian 12 root with its stock QGIS 3.22, the oldest the plugin supports (make test-oldest)
MINUTES ?= 30
VERSION := $(shell sed -n 's/^version=//p' metadata.txt)

export PYTHONPATH := $(PLUGINS)
export QT_QPA_PLATFORM := offscreen

.PHONY: setup apt test test-oldest demo screenshots data train calibrate onnx bench-quality bench-speed package clean

setup: apt $(VENV)/.installed $(PLUGINS)/s2sr

apt:  # checked on every make: the Debian packages, QGIS at least the LTR (an older one is upgraded)
	@dpkg -s $(APT) >/dev/null 2>&1 && dpkg --compare-versions "$$(dpkg-query -W -f '$${Version}' qgis)" ge $(QGIS_LTR) || \
		{ sh scripts/backports.sh && apt-get update -q && \
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -t bookworm-backports $(APT); }

# the numpy that QGIS and GDAL are built against stays: pip may not replace it for any requirement. A requirement that
# the host's Python packages satisfy is not installed into the venv, and the QGIS 3.22 root of make test-oldest uses
# that venv without them: oauthlib (pure Python; s2cloudless's sentinelhub imports it) goes into the venv itself
$(VENV)/.installed: requirements.txt requirements-batch.txt requirements-clouds.txt requirements-dev.txt
	test -x $(PY) || /usr/bin/python3 -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q -r requirements-dev.txt -c <($(PY) -c 'import numpy; print("numpy==" + numpy.__version__)')
	$(PY) -m pip install -q --ignore-installed --no-deps oauthlib==3.2.2
	touch $@

$(PLUGINS)/s2sr:
	mkdir -p $(PLUGINS) && ln -sfn $(CURDIR) $@

test: setup
	$(PY) -m pytest -v

test-oldest: setup
	bash scripts/test_oldest.sh $(OLDEST) $(APT)

demo: setup
	$(PY) scripts/demo.py --out build/demo

screenshots: demo
	dpkg -s xvfb >/dev/null 2>&1 || apt-get install -y -q xvfb
	S2SR_REPO=$(CURDIR) QGIS_PLUGINPATH=$(PLUGINS) QGIS_CUSTOM_CONFIG_PATH=$(CURDIR)/build/demo/profile \
		PYTHONPATH=$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') QT_QPA_PLATFORM=xcb \
		xvfb-run -a -s "-screen 0 1400x900x24" timeout 300 qgis --nologo --noversioncheck --code scripts/screenshots.py

data: setup
	$(PY) -m s2sr.training.data --out data/packed --scales 2
	$(PY) -m s2sr.training.data --out data/packed --scales 6 --coarser-copies 2

train: setup
	test -d data/packed || $(MAKE) data
	$(PY) -m s2sr.training.train --scale 2 --out models/dsen2_oscd_2x.pt --minutes $(MINUTES) --ignore-repeats
	$(PY) -m s2sr.training.train --scale 6 --out models/dsen2_oscd_6x.pt --minutes $(MINUTES) --weighting ground --coarse-only B9
	$(MAKE) calibrate onnx

calibrate: setup
	$(PY) -m s2sr.training.confidence models/dsen2_oscd_2x.pt models/dsen2_oscd_6x.pt
	$(PY) -m s2sr.training.selfcheck models/dsen2_oscd_2x.pt models/dsen2_oscd_6x.pt

onnx: setup
	$(PY) -W ignore::DeprecationWarning -m s2sr.models.export models/dsen2_oscd_2x.pt models/dsen2_oscd_6x.pt

bench-quality: setup
	$(PY) bench/quality.py
	$(PY) bench/selfcheck.py
	$(PY) bench/confidence.py
	test -f ../shared/models/evoland/carn_light.yaml && $(PY) bench/cards.py ../shared/models/evoland/carn_light.yaml || echo "bench/cards.py: no EVOLAND model in ../shared/models/evoland, skipped"

bench-speed: setup
	$(PY) bench/speed.py --size $(or $(SIZE),2048)

package:
	rm -rf dist && mkdir -p dist
	git archive --format=zip --prefix=s2sr/ -o dist/s2sr-$(VERSION).zip HEAD -- \
		__init__.py metadata.txt LICENSE README.md requirements.txt requirements-batch.txt requirements-clouds.txt algorithms batch core models plugin resources run training
	@echo dist/s2sr-$(VERSION).zip

clean:
	rm -rf build dist
