# Two commands do all set-up on a fresh machine with Python 3 and make:
#   make run-all   execute notebooks/01..07, English then Indonesian, with papermill (writes build/notebooks/)
#   make test      pytest on tests/ and fer_lib's doctests, plus nbval over the notebooks in the fast profile
#                  (slow tests included; `pytest -m "not slow"` for a quick look)
# Both create or refresh .venv/ from requirements.txt when it is missing or stale.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
OUT    ?= build/notebooks
PROFILE ?= default
export TF_CPP_MIN_LOG_LEVEL ?= 2
export MPLBACKEND ?= Agg

.PHONY: help env system-libraries browser run-all test test-unit test-notebooks train train-full bench clean refresh-notebooks notebooks-id

help:
	@echo "make run-all        execute every notebook in order (PROFILE=default|fast|full, OUT=$(OUT))"
	@echo "make test           unit tests + notebooks in the fast profile under nbval"
	@echo "make train          train the student profile (12 epochs: 6 min on 2 quiet cores, 62% PublicTest; PROFILE=full: the shipped recipe, 105 min, into models/full.keras; FORCE=1 replaces the shipped model)"
	@echo "make bench          run the benchmarks in benchmarks/"
	@echo "make notebooks-id   remake the Indonesian edition (notebooks/*.id.ipynb) from notebooks/translations/id.json and run it"

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(MAKE) --no-print-directory system-libraries
	$(PY) -m pip install --quiet --upgrade pip
	@# OpenCV's GUI build replaces a headless one: both would share cv2/, and removing either breaks the other.
	@if $(PY) -m pip show opencv-python-headless >/dev/null 2>&1; then \
	    $(PY) -m pip uninstall --quiet -y opencv-python-headless opencv-python; fi
	$(PY) -m pip install --quiet -r requirements.txt
	@# cv2 must load: repair a build left half-removed, else fall back to the headless build and say why.
	@$(PY) -c "import cv2" 2>/dev/null || $(PY) -m pip install --quiet --force-reinstall --no-deps 'opencv-python>=4.9,<5'
	@$(PY) -c "import cv2" 2>/dev/null || { \
	    echo "OpenCV's GUI build cannot load here (libGL or GLib missing: install libgl1 and libglib2.0-0 with your"; \
	    echo "package manager, then run make again); using the headless build meanwhile: \`live\` will have no window."; \
	    $(PY) -m pip uninstall --quiet -y opencv-python && $(PY) -m pip install --quiet 'opencv-python-headless>=4.9,<5'; }
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e . || $(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# System packages, installed where we run as root with apt-get (the same rule as .venv/); elsewhere the
# tests that need them skip and name the command. APT_INSTALL installs its arguments, refreshing the lists once.
APT_INSTALL = export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq --no-install-recommends $(1) >/dev/null 2>&1 || \
	{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends $(1) >/dev/null 2>&1; }
CAN_APT = [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1

# OpenCV's GUI build needs libGL and GLib on Linux.
system-libraries:
	@if command -v ldconfig >/dev/null 2>&1 && ! { ldconfig -p | grep -q 'libGL.so.1' && \
	    ldconfig -p | grep -q 'libgthread-2.0.so.0'; } && $(CAN_APT); then \
	    echo "installing libGL for OpenCV (apt-get)"; $(call APT_INSTALL,libgl1 libglib2.0-0) || \
	    echo "could not install libgl1: import cv2 will fail; install it with your package manager"; fi

# The browser test drives Debian's chromium; the window test of `live` runs under Xvfb.
browser:
	@if [ ! -x /usr/bin/chromium ] && $(CAN_APT); then \
	    echo "installing Debian's chromium for the browser test (apt-get)"; $(call APT_INSTALL,chromium) || \
	    echo "could not install chromium: the browser test will skip"; fi
	@if ! command -v xvfb-run >/dev/null 2>&1 && $(CAN_APT); then \
	    echo "installing Xvfb for the live window test (apt-get)"; $(call APT_INSTALL,xvfb xauth) || \
	    echo "could not install xvfb: the live window test will skip"; fi

run-all: $(STAMP)
	$(PY) scripts/run_notebooks.py --profile $(PROFILE) --output $(OUT)

test: test-unit test-notebooks

# The unit tests on every core (pytest-xdist), a file per worker: a file's tests share their fixtures.
test-unit: $(STAMP) browser
	$(PY) -m pytest tests fer_lib research --doctest-modules -q -n auto --dist loadfile

# Each notebook's kernel on a worker of its own (a notebook is one file): two notebooks run at once on 2 cores.
# The Indonesian copies of the notebooks that train (3, 4, 6) are left out to keep make test under 10 minutes: they
# run the English code byte for byte (only language="id" differs), and tests/test_language.py checks their outputs.
NBVAL_SKIP := $(foreach nb,03_train 04_evaluate_overfitting 06_your_own_faces,--ignore=notebooks/$(nb).id.ipynb)
test-notebooks: $(STAMP)
	FER_LIB_PROFILE=fast FER_LIB_OUTPUT=$(CURDIR)/build/nbval $(PY) -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env -n auto --dist loadfile $(NBVAL_SKIP) notebooks

# PROFILE=full writes models/full.keras; FORCE=1 writes over the shipped model instead (then `make test`).
train: $(STAMP)
	$(PY) -m fer_lib train --profile $(if $(filter full,$(PROFILE)),full,student) --output $(if $(filter full,$(PROFILE)),$(if $(FORCE),fer_lib/model/shipped/default,models/full),models/student).keras

train-full:
	$(MAKE) train PROFILE=full

bench: $(STAMP)
	$(PY) benchmarks/bench_parse.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_live.py

clean:
	rm -rf build .pytest_cache

# Maintainers: re-execute the committed notebooks in place (default profile) so their saved outputs are fresh.
refresh-notebooks: $(STAMP)
	$(PY) scripts/run_notebooks.py --in-place

# Maintainers: the Indonesian edition is made from the English notebooks and notebooks/translations/id.json
# (code cells byte for byte), then executed in place so its saved outputs are a real run's.
notebooks-id: $(STAMP)
	$(PY) scripts/make_id_notebooks.py
	$(PY) scripts/run_notebooks.py --in-place --edition id
