# Two commands do everything on a fresh machine: `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Find Python >= 3.12: python3.13/python3.12 on PATH (that actually run), then pyenv's versions.
FIND_PYTHON = for c in python3.13 python3.12 \
	  $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3 2>/dev/null | sort -r) \
	  $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3 2>/dev/null | sort -r); do \
	  if $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo $$c; break; fi; \
	done

.PHONY: demo test venv clean calibration benchmark benchmark-scale
venv: $(STAMP)

$(STAMP): pyproject.toml
	@if [ ! -x $(PY) ]; then \
	  PYBIN=$$($(FIND_PYTHON)); \
	  if [ -z "$$PYBIN" ]; then \
	    echo "error: pluraleval needs Python >= 3.12 (PyMC 6). Install python3.12 or python3.13" \
	         "(e.g. 'pyenv install 3.12') and re-run make." >&2; exit 1; fi; \
	  echo "creating $(VENV) with $$PYBIN"; $$PYBIN -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/pluraleval demo

test: $(STAMP)
	$(VENV)/bin/ruff check src tests scripts benchmarks
	$(PY) -m pytest

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache

# SBC and coverage studies behind models/CALIBRATION.md (27 min on 2 cores shared with other jobs).
calibration: $(STAMP)
	$(PY) scripts/calibration.py

# Speed against Bambi at 2k/20k/200k judgments (benchmarks/README.md; hours on 2 cores: run it
# on an otherwise idle machine). Extra options: make benchmark BENCH_ARGS="--sizes 2000".
benchmark: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) benchmarks/run.py $(BENCH_ARGS)

# The approximate scale path: ADVI on ~1M judgments (time, peak memory, system-quality
# coverage) and ADVI vs NUTS coverage on 10 replicated 20k studies (~30 min).
benchmark-scale: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) benchmarks/scale.py $(SCALE_ARGS)
