# EventConsole: `make run` starts everything, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: run test bench clean-venv

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changes.
$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(PY) -m eventconsole.launcher

# The suite runs on TEST_PROCESSES processes (pytest-xdist); TEST_PROCESSES=0 runs it in this one.
# Four on two cores: many tests wait on a worker, a browser or the emulator, and an idle process
# steals queued tests from a busy one (worksteal), so the slow drills do not finish the run alone.
TEST_PROCESSES ?= 4
test: $(VENV)/.installed-dev
	$(PY) -m pytest -n $(TEST_PROCESSES) --dist worksteal $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev
	$(PY) -m bench

clean-venv:
	rm -rf $(VENV)
