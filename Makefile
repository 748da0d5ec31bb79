# Two commands do all the set-up on a fresh machine:
#   make demo   create .venv, install digitrec (inference only), read the sample images in images/
#   make test   create .venv, install digitrec[dev] (torch CPU, pytest, ...) and chromium, run the whole test suite
# and for every edit: make test-fast (the tests not marked slow: no training runs, browsers, notebook or wheel installs)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test test-fast bench clean chromium strong-model line-model

demo: $(VENV)/.installed-base
	$(BIN)/digitrec predict images/

test: $(VENV)/.installed-dev chromium
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

# The browser tests drive the Debian chromium package (never `playwright install`); without it they skip.
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium) \
		|| echo "chromium could not be installed (needs root): tests/server/test_browser.py will be skipped"

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run.py --quick

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@ $(VENV)/.installed-base

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache

# The shipped default model, from scratch, in two runs: the base recipe (40 epochs; trained on one H200 in 5.5 minutes,
# an estimated 75 minutes on 2 idle CPU cores, not timed end to end on CPU), then a fine-tune that adds the digits of
# other writers and scans (--styles) and the redesigned non-digits (10 epochs; about 30 minutes on 2 CPU cores, docs/accuracy.md).
# Each run's metadata records its command.
strong-model: $(VENV)/.installed-dev
	$(BIN)/digitrec train --arch strong --nondigit 0.1 --printed 0.08 --holdout 5000 --augment --epochs 40 --batch-size 128 \
		--lr 0.003 --schedule onecycle --seed 0 --out models/strong-base --force
	$(BIN)/digitrec train --arch strong --init models/strong-base --nondigit 0.12 --printed 0.08 --styles 0.25 --holdout 5000 \
		--augment --epochs 10 --batch-size 128 --lr 0.001 --schedule onecycle --seed 1 --out src/digitrec/weights/strong --force

# The shipped line reader (digitrec read): CTC on synthetic lines of MNIST training digits. The base was trained with
# the first command plus --device cuda --workers 5 on one H200 (7.4 minutes, shared with other jobs; on 2 CPU cores an
# estimated 1 to 2.5 hours, not timed end to end); the fine-tune (second command) took 25 minutes on 2 CPU cores.
line-model: $(VENV)/.installed-dev
	$(BIN)/digitrec train --lines --out models/line-base --steps 6000 --batch-size 64 --lr 0.002 --seed 0 --force
	$(BIN)/digitrec train --lines --init models/line-base --out src/digitrec/weights/line --styles 0.22 --clear-marks --steps 1500 --lr 0.0003 --seed 3 --force
