# kubesphere.multicluster -- two commands: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
COLL_LINK := build/collections/ansible_collections/kubesphere/multicluster
SHARED_CRDS := $(abspath ../shared/kubesphere-crds/v3.4)
export ANSIBLE_COLLECTIONS_PATH := $(abspath build/collections)
export ANSIBLE_CONFIG := $(abspath ansible.cfg)
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: demo test evidence system-packages venv link lab-binaries lab-up lab-down lab-status unit integration lab-tests sanity lint molecule bench bench-site clean

# The lab's KubeSphere: v3.4.1 (the default) or v4.1.3 (`make demo KUBESPHERE=v4.1.3`); the same inventory and playbooks.
KUBESPHERE ?= v3.4.1

demo: system-packages venv link lab-binaries  ## install, start a 3-cluster lab, run site.yml on inventories/lab, print the fleet status
	tests/lab/kslab up --kubesphere $(KUBESPHERE)
	$(BIN)/ansible-playbook -i inventories/lab playbooks/site.yml
	$(BIN)/ansible-playbook -i inventories/lab playbooks/status.yml
	@echo "The lab is still running: 'tests/lab/kslab status' shows it, 'make lab-down' stops it."

test: system-packages venv link  ## every test: unit, lab, integration, AWX, sanity, lint, changelog, molecule, build, galaxy (builds the lab's binaries and starts and stops its own labs)
	bash tests/run-all.sh

evidence: venv link  ## docs/evidence.md from the tests' results in build/evidence/ (a full `make test` writes them; it fails when the committed page differs)
	$(BIN)/python tests/evidence/render.py

# Debian packages the lab and the tests use: zstd (KubeSphere's source archives), chromium (the fleet report
# opened in a real browser). Installed with apt-get when missing and we are root; otherwise a hint.
SYSTEM_PACKAGES := zstd chromium
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (sudo apt-get install$$missing)"; fi; \
	fi

venv: $(BIN)/.installed
$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

link:  ## make the checkout importable as kubesphere.multicluster
	@mkdir -p $(dir $(COLL_LINK))
	@test -L $(COLL_LINK) || ln -sfn ../../../.. $(COLL_LINK)

lab-binaries:  ## build the lab binaries once (Kubernetes, kubefed, KubeSphere, tower; cached in ~/.cache/kslab)
	tests/lab/build-binaries.sh --kubesphere $(KUBESPHERE)

lab-up: venv lab-binaries  ## start the lab (KSLAB_STATE, KSLAB_PORT_BASE choose its folder and ports)
	tests/lab/kslab up --kubesphere $(KUBESPHERE)
lab-status:  ## every process of the lab and its health
	tests/lab/kslab status
lab-down:  ## stop every process of the lab (by pid) and remove its state
	tests/lab/kslab down

unit: venv link
	$(BIN)/pytest -q tests/unit
bench: venv link lab-binaries
	$(BIN)/python tests/bench/lab_bench.py
bench-site: venv link lab-binaries  ## site.yml against a plain kubernetes.core playbook (docs/performance.md); BENCH_ARGS=--quick
	$(BIN)/python tests/bench/site_bench.py $(BENCH_ARGS)

clean: lab-down
	rm -rf build .pytest_cache tests/output
