# One place for the commands a new user types; README.md shows them.
PYTHON ?= python3
VENV   ?= .venv
# The torch build to install. On a GPU box, PyPI's torch is the CUDA build; on the project's
# CPU machines this exact version lies on disk. Override: make setup TORCH="torch==2.6.0".
TORCH  ?= torch==2.13.0
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: setup run test test-slow bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

# The co-training demo, opened in the app on its live screen (the run goes on if the app closes).
run: setup
	HF_HUB_OFFLINE=1 $(VENV)/bin/xlu-tui run --preset demo --app

test: setup
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

test-slow: setup
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -m slow

bench: setup
	HF_HUB_OFFLINE=1 $(PY) bench/bench_predict.py

clean:
	rm -rf $(VENV) build *.egg-info
