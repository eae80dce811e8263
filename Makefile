# The two commands of the README. Both create .venv (Python 3.11) if it is missing and install
# the project with the exact versions of requirements.lock.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install repro test experiment queue sweep report screenshots push pull sync serve clean-store

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

## Run the whole pipeline (offline, on the embedded MNIST digits). params.yaml is checked first:
## a bad value stops here, before DVC deletes the outputs of the stages it would re-run.
repro: $(STAMP)
	$(BIN)/python -m imgclf.params.check params.yaml
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

## Run the test suite (unit tests, then real `dvc repro` runs on tiny data).
test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

## Run a tutorial's configuration as a DVC experiment: make experiment NAME=mnist [ARGS="--name variant --set k=v"]
experiment: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m imgclf.tracking.experiment $(NAME) $(ARGS)

## Run the experiments queued with `dvc exp run --queue`, JOBS at a time (default 2).
JOBS ?= 2
queue: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m imgclf.tracking.queue --jobs $(JOBS)

## Run a sweep file (sweeps/NAME.yaml) as DVC experiments compared in MLflow: make sweep NAME=lr_grid [RESUME=1]
sweep: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m imgclf.tracking.sweep $(NAME) $(if $(RESUME),--resume)

## Write reports/pr.md: params, metrics and charts of the workspace against BASE (default main).
BASE ?= main
report: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m imgclf.evaluation.pr_report --base $(BASE) $(ARGS)

## Check reports/index.html in headless Chromium at 390 and 1440 px and screenshot it into
## reports/screenshots/ (tracked by DVC through reports/screenshots.dvc, not by git).
screenshots: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m imgclf.evaluation.screenshots
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc add reports/screenshots

## Upload the cached data and models to the default DVC remote (.dvc/config): make push [ARGS="-r name --run-cache"]
push: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc push $(ARGS)

## Download the data and models of this commit from the DVC remote: make pull [ARGS="--allow-missing"]
pull: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc pull $(ARGS)

## Upload the MLflow runs kept in mlflow_spool/ while the tracking store was away (each once).
sync: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m imgclf.tracking.sync

## Serve the registered candidate over HTTP on 127.0.0.1:PORT, offline from .venv: make serve [PORT=5001] [MODEL=models:/...]
## (PATH names .venv/bin: `mlflow models serve` starts `uvicorn` from PATH)
PORT ?= 5001
MODEL ?= models:/image-classifier@candidate
serve: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" MLFLOW_TRACKING_URI="$${MLFLOW_TRACKING_URI:-sqlite:///$(CURDIR)/mlflow.db}" \
		$(BIN)/mlflow models serve -m "$(MODEL)" --env-manager local --host 127.0.0.1 --port $(PORT)

## Delete the local MLflow store (runs and artifacts).
clean-store:
	rm -rf mlflow.db mlartifacts mlflow_runs.json mlflow_spool
