# The only commands a person needs.  `make demo` and `make test` work on a machine that has just
# python3 (3.11+) and make: the virtual environment is created and refreshed on demand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-hours install lint typecheck check bench docs clean

$(STAMP): pyproject.toml scripts/bootstrap_venv.py
	$(PYTHON) scripts/bootstrap_venv.py $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/heartkeep demo

test: $(STAMP)
	@# The dashboard's browser tests drive Debian's Chromium; as root, install it once if missing.
	@if [ "$$(id -u)" = 0 ] && ! [ -x /usr/bin/chromium ]; then echo "installing chromium (apt-get) for the dashboard's browser tests"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 || echo "could not install chromium: browser tests will be skipped (they fail under CI=true)"; fi
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/pytest -n 2 -q

# The whole suite with every test's wall clock moved to each hour (time-machine): proves that no
# test depends on the time of day.  Not part of `make test`; see docs/development.md.
HOURS ?= 00:30 06:30 12:30 18:30 23:30
test-hours: $(STAMP)
	@failed=0; for hour in $(HOURS); do echo "== wall clock at $$hour UTC"; \
	  out=$$(HEARTKEEP_TEST_WALL_CLOCK=$$hour $(BIN)/pytest -n 2 -q -p no:cacheprovider 2>&1); rc=$$?; \
	  echo "$$out" | tail -n 1; [ $$rc -eq 0 ] || { echo "$$out" | grep -E '^(FAILED|ERROR)'; failed=1; }; \
	done; exit $$failed

# The `heartkeep` command for your own account: PREFIX/bin/heartkeep (default ~/.local/bin).
PREFIX ?= $(HOME)/.local
install:
	$(PYTHON) scripts/install.py --prefix "$(PREFIX)"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

docs: $(STAMP)
	$(BIN)/python -m heartkeep.cli.docgen > docs/cli.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo-data
