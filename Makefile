# Force of MLP: `make html` builds the book, `make test` runs every test. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SHARED_DATA := $(abspath ../shared/data)
# Use the offline copy of MNIST beside the checkout when there is one (CI, this workplace).
ifneq ($(wildcard $(SHARED_DATA)/mnist),)
export FORCEMLP_DATA ?= $(SHARED_DATA)
endif
SPHINXOPTS ?= -W --keep-going

.PHONY: html test notebooks bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[torch,keras,fastai,docs,dev]'
	touch $@

# The paired .ipynb of each lesson (committed: Colab and Binder open these, not MyST .md).
notebooks: $(STAMP)
	$(BIN)/python tools/make_notebooks.py

html: $(STAMP)
	$(BIN)/sphinx-build $(SPHINXOPTS) -b html . _build/html

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m forcemlp bench --epochs 1

clean:
	rm -rf _build
