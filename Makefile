# make run   — set up .venv when needed, then open the lab (streamlit run app.py)
# make test  — set up .venv when needed, then run the whole test suite
# make test-fast — everything except the browser and the tests that train (about a minute)
# make bench — training throughput vs a per-sample pipeline, matmul peak, RSS

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
WARM   := .cache/numba/.warm
export NUMBA_CACHE_DIR := $(CURDIR)/.cache/numba

.PHONY: setup run test test-fast bench lint clean-venv

setup: $(STAMP) $(WARM)

# Re-installs only when requirements.txt changes; the stamp is written last, so a failed
# install is retried next time instead of looking done.
$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

# UMAP's numba kernels compile once (30-60 s cold on 2 cores) into .cache/numba, so that neither the
# app's first map nor a test waits for the compiler; later starts load the compiled code.
$(WARM): $(STAMP)
	@mkdir -p $(dir $(WARM))
	$(BIN)/python -c "from lab.measures.maps import warm_up_umap; print(f'numba warm-up (UMAP kernels): {warm_up_umap():.0f} s')"
	@touch $(WARM)

run: setup
	$(BIN)/streamlit run app.py

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

bench: setup
	$(BIN)/python -m lab bench

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean-venv:
	rm -rf $(VENV)
