# The two commands of the README:
#   make repro   set everything up, build the embedded data, run the whole DVC graph
#                (PROFILE=full: the paper's table, for a GPU or several CPU days)
#   make test    set everything up, run the test suite
# Both install into .venv first (tools/install.sh; the first mmcv build takes ~16 min).
VENV ?= .venv
PY := $(VENV)/bin/python
export DVC_NO_ANALYTICS := 1
export PATH := $(abspath $(VENV))/bin:$(PATH)
# No PYTHONPATH: every DVC stage runs `python -m mmproseco.pipeline` from the repository
# root, which imports this checkout's code first (and refuses to run another copy).
SOURCES := $(shell find mmproseco -name '*.py') setup.cfg pyproject.toml

.PHONY: install test repro data lint
install: $(VENV)/.deps $(VENV)/.mmproseco

$(VENV)/.deps: tools/install.sh requirements/build.txt requirements/runtime.txt requirements/mmdet.txt \
		requirements/lint.txt
	bash tools/install.sh
	touch $@

# `mim train` runs the installed copy, so reinstall whenever the package changes.
$(VENV)/.mmproseco: $(VENV)/.deps $(SOURCES)
	$(PY) -m pip install -q --no-deps --no-build-isolation --force-reinstall .
	touch $@

data: install
	@[ -d data/shapes ] && [ -d data/deepforest ] || $(PY) tools/prepare_data.py --out data --seed 0

# The profile of params.yaml decides which stages exist and their sizes (docs/pipeline.md).
PROFILE ?= default
repro: data
	$(PY) -m mmproseco.pipeline profile $(PROFILE)
	dvc repro

# Line length and import order (setup.cfg), over everything git tracks in Python.
lint: install
	$(PY) -m flake8 mmproseco configs tools tests benchmarks
	$(PY) -m isort --check-only --diff mmproseco configs tools tests benchmarks

test: install
	$(PY) -m pytest
