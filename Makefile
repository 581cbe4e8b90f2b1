# sinergi — the pipeline as a DAG of files. `make help` lists the targets.
#
#   make report                  the demo study end to end (creates .venv on first use)
#   STUDY=my.yaml make report    another study; it writes only under data/*/<id>/ and reports/<id>/
#
# Every derived file is a target; each rule lists the module that makes it, so editing one stage
# rebuilds that stage and what depends on it. Only `make pull` may use the network.

SHELL := /bin/bash
.DELETE_ON_ERROR:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules
# Stages that do not need each other's files run side by side (scales beside network; prepost, district,
# did, invariance and coverage beside each other), one job per core. Their memory adds up while they
# overlap: on a laptop short of memory `JOBS=1 make report` runs one stage at a time (same files).
JOBS ?= $(shell getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
MAKEFLAGS += -j$(JOBS)

STUDY ?= study.yaml
PYTHON ?= python3
VENV := .venv/.installed
SINERGI := .venv/bin/sinergi
RUN = $(SINERGI) $(1) --study $(STUDY)

# The study id, read one way only: `python3 -S -m pipeline.io study-id` (standard library, no venv),
# the same reader that `sinergi` checks the YAML against. Its answer is cached in .make/ as an
# included makefile, remade (and Make restarted) only when the study file changes, so a no-op
# `make report` runs no Python at all.
STUDY_MK := .make/study-id/$(subst /,_,$(abspath $(STUDY))).mk
ifneq ($(filter-out help lock venv test instruments clean-all,$(or $(MAKECMDGOALS),report)),)
include $(STUDY_MK)
else
-include $(wildcard $(STUDY_MK))
endif
RAW := data/raw/$(ID)
PROC := data/processed/$(ID)
REP := reports/$(ID)
# A local source (tables, kobo_files): `sinergi pull` lists the study file and the files it copied
# into data/raw/<id>/ as SOURCE_FILES here, so editing one of them makes `make report` copy the
# source in again (and rerun what depends on it) instead of saying "Nothing to be done".
SOURCES_MK := .make/sources/$(ID).mk
-include $(wildcard $(SOURCES_MK))

COMMON := pipeline/__init__.py pipeline/cli.py pipeline/config.py pipeline/errors.py pipeline/io.py \
          pipeline/outputs.py pipeline/parallel.py pipeline/schemas.py pipeline/simulation/seeds.py \
          pipeline/simulation/sites.py pipeline/order.py pipeline/partitions.py pipeline/shared.py $(STUDY) $(VENV)

TIDY_OUT := $(addprefix $(PROC)/,respondents.parquet responses.parquet ties.parquet scale_map.parquet \
                                  quality.csv sample.csv)
SCALES_OUT := $(addprefix $(PROC)/,scores.csv reliability.csv items.csv)
NETWORK_OUT := $(addprefix $(PROC)/,network_whole.csv network_groups.csv mixing.csv network_nodes.csv \
                                     brokerage.csv network_change.csv)
PREPOST_OUT := $(addprefix $(PROC)/,prepost.csv mixed_models.csv dose_response.csv collective.csv descriptives.csv)
DISTRICT_OUT := $(addprefix $(PROC)/,district.csv district_sites.csv)
DID_OUT := $(addprefix $(PROC)/,did.csv balance.csv)
INVARIANCE_OUT := $(PROC)/invariance.csv
COVERAGE_OUT := $(PROC)/network_coverage.csv
PLAN_OUT := $(PROC)/plan.csv
INSTRUMENT_OUT := $(addprefix instruments/build/,sinergi.xlsx codebook.md scales.csv google_form.gs)

.PHONY: help report pull monitor tidy scales network prepost district did invariance coverage plan instruments test venv clean clean-all lock

help: ## list the targets
	@echo "sinergi — make targets (STUDY=$(STUDY), id $(ID))"
	@grep -hE '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | expand -t 24

$(STUDY_MK): $(wildcard $(STUDY)) pipeline/io.py
	@mkdir -p $(@D)
	@id=$$($(PYTHON) -S -m pipeline.io study-id $(STUDY)) && echo "ID := $$id" > $@

report: $(REP)/report.html ## build reports/<id>/report.html (+ docx, tables, exports) from data/raw, offline

pull: $(VENV) ## fetch/copy the study's source into data/raw/<id>/ (FULL=1 refetches all submissions)
	$(call RUN,pull) $(if $(FULL),--full)

# Phony: it pulls (a KoboToolbox study), so it is never part of `make report`.
monitor: $(VENV) ## fieldwork check: pull what is new, write reports/<id>/monitor.html + coverage.csv (OFFLINE=1: last pull)
	$(call RUN,monitor) $(if $(OFFLINE),--offline)

tidy: $(TIDY_OUT) ## canonical tables in data/processed/<id>/
scales: $(SCALES_OUT) ## scale scores, reliability, item statistics
network: $(NETWORK_OUT) ## network measures per site x wave x tie type
prepost: $(PREPOST_OUT) ## before/after statistics and mixed models
district: $(DISTRICT_OUT) ## a district: change per village and pooled over villages (multi-site studies)
did: $(DID_OUT) ## comparison villages: difference-in-differences, ANCOVA, baseline balance
invariance: $(INVARIANCE_OUT) ## measurement invariance (configural, metric, scalar) per dimension
coverage: $(COVERAGE_OUT) ## missing network data: roster coverage and E-I/assortativity sensitivity
plan: $(PLAN_OUT) ## power for the next program by simulation (study key plan)
instruments: $(INSTRUMENT_OUT) ## build the XLSForm, codebook, scale map and a preview Google Form script from instruments/sinergi.yaml

test: $(VENV) ## run the test suite
	.venv/bin/python -m pytest -q

venv: $(VENV) ## create .venv with the pinned dependencies

$(VENV): pyproject.toml constraints.txt
	@echo "sinergi: installing the pinned Python packages into .venv (a few minutes the first time; pip shows each one)"
	@test -x .venv/bin/python || $(PYTHON) -m venv .venv
	@.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
	.venv/bin/python -m pip install --disable-pip-version-check --progress-bar on -c constraints.txt -e '.[dev]'
	@touch $@

$(INSTRUMENT_OUT) &: instruments/sinergi.yaml instruments/roster_template.csv pipeline/instrument.py \
                     pipeline/sources/google_form_script.py $(VENV)
	$(SINERGI) instruments

# Raw data appears once (demo, tables and export files are local; a KoboToolbox study needs `make pull`),
# and a local source is copied in again when one of its files (or the study file) is newer than the
# copy and differs from it (raw files are never edited: the new copy replaces the old, with a new manifest).
$(RAW)/manifest.json: $(SOURCE_FILES) | $(VENV)
	$(call RUN,pull) --local-only --if-changed

# what reads data/raw/<id>/ for tidy: the wave readers of every source and the one screening rule
READERS := pipeline/screening.py pipeline/pseudonym.py pipeline/privacy.py pipeline/sources/raw.py \
           pipeline/sources/kobo_files.py pipeline/sources/tables.py pipeline/sources/google_forms.py \
           pipeline/sources/google_form_script.py pipeline/sources/odk.py pipeline/sources/odk_adapter.py

$(TIDY_OUT) &: $(RAW)/manifest.json $(wildcard $(RAW)/pseudonym.width) pipeline/tidy.py pipeline/instrument.py instruments/sinergi.yaml \
               $(READERS) $(COMMON)
	$(call RUN,tidy)

$(SCALES_OUT) &: $(PROC)/respondents.parquet $(PROC)/responses.parquet $(PROC)/scale_map.parquet pipeline/analysis/scales.py $(COMMON)
	$(call RUN,scales)

$(NETWORK_OUT) &: $(PROC)/respondents.parquet $(PROC)/ties.parquet pipeline/analysis/network.py $(COMMON)
	$(call RUN,network)

$(PREPOST_OUT) &: $(PROC)/scores.csv $(PROC)/network_nodes.csv $(PROC)/respondents.parquet pipeline/analysis/prepost.py \
                 pipeline/analysis/reml.py $(COMMON)
	$(call RUN,prepost)

$(DISTRICT_OUT) &: $(PROC)/scores.csv $(PROC)/respondents.parquet pipeline/analysis/district.py pipeline/analysis/reml.py $(COMMON)
	$(call RUN,district)

$(DID_OUT) &: $(PROC)/scores.csv $(PROC)/network_nodes.csv $(PROC)/network_whole.csv $(PROC)/respondents.parquet \
              pipeline/analysis/did.py $(COMMON)
	$(call RUN,did)

$(INVARIANCE_OUT): $(PROC)/respondents.parquet $(PROC)/responses.parquet $(PROC)/scale_map.parquet \
                  pipeline/analysis/invariance.py $(COMMON)
	$(call RUN,invariance)

$(COVERAGE_OUT): $(PROC)/respondents.parquet $(PROC)/ties.parquet pipeline/analysis/coverage.py pipeline/analysis/network.py $(COMMON)
	$(call RUN,coverage)

$(PLAN_OUT): pipeline/analysis/plan.py $(wildcard pipeline/simulation/*.py) pipeline/analysis/did.py \
             pipeline/analysis/network.py $(COMMON)
	@mkdir -p $(@D)
	$(call RUN,plan)

# plan.csv (the next program's power) is made only by `make plan` (a minute of simulation); a report
# made after it shows it, and is remade when it changes.
$(REP)/report.html: $(TIDY_OUT) $(SCALES_OUT) $(NETWORK_OUT) $(PREPOST_OUT) $(DISTRICT_OUT) $(DID_OUT) $(INVARIANCE_OUT) $(COVERAGE_OUT) \
                    $(wildcard $(PLAN_OUT)) \
                    $(RAW)/manifest.json \
                    $(wildcard pipeline/report/*.py pipeline/report/sections/*.py pipeline/report/locales/* pipeline/report/templates/*) \
                    pipeline/analysis/network.py pipeline/instrument.py instruments/sinergi.yaml $(COMMON)
	$(call RUN,report)

clean: ## remove derived files of this study (never data/raw)
	@test -n "$(ID)" || { echo "make clean: no study id" >&2; exit 2; }
	rm -rf $(PROC) $(REP) data/private/$(ID)

clean-all: ## remove all derived files, the instrument build and .venv (never data/raw)
	rm -rf data/processed/*/ reports/*/ data/private/ instruments/build .venv

lock: ## re-pin every dependency into constraints.txt after changing pyproject.toml
	rm -rf /tmp/sinergi-lock && $(PYTHON) -m venv /tmp/sinergi-lock
	/tmp/sinergi-lock/bin/pip install -q -e '.[dev]'
	{ sed -n '1,2p' constraints.txt; /tmp/sinergi-lock/bin/pip freeze --exclude-editable | grep -v '^sinergi'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
