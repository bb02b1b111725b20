# Two commands do all set-up on a fresh machine with Python 3 and make:
#   make run-all   execute notebooks/01..05, English then Indonesian, with papermill (writes build/notebooks/)
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

.PHONY: help env browser run-all test test-unit test-notebooks train train-full bench clean refresh-notebooks notebooks-id

help:
	@echo "make run-all        execute every notebook in order (PROFILE=default|fast|full, OUT=$(OUT))"
	@echo "make test           unit tests + notebooks in the fast profile under nbval"
	@echo "make train          train the student profile (12 epochs: 6 min on 2 quiet cores, 62% PublicTest; PROFILE=full: the shipped model, 105 min)"
	@echo "make bench          run the benchmarks in benchmarks/"
	@echo "make notebooks-id   remake the Indonesian edition (notebooks/*.id.ipynb) from notebooks/translations/id.json and run it"

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e . || $(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# The browser test drives Debian's chromium. Installed here, where we run as root with apt-get (the same
# rule as .venv/); elsewhere the test skips and names this command.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser test (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; } || \
	    echo "could not install chromium: the browser test will skip"; \
	fi

run-all: $(STAMP)
	$(PY) scripts/run_notebooks.py --profile $(PROFILE) --output $(OUT)

test: test-unit test-notebooks

test-unit: $(STAMP) browser
	$(PY) -m pytest tests fer_lib --doctest-modules -q

test-notebooks: $(STAMP)
	FER_LIB_PROFILE=fast FER_LIB_OUTPUT=$(CURDIR)/build/nbval $(PY) -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env notebooks

train: $(STAMP)
	$(PY) -m fer_lib train --profile $(if $(filter full,$(PROFILE)),full,student) --output models/$(if $(filter full,$(PROFILE)),default,student).keras

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
