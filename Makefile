# Force of MLP: `make html` builds the book, `make test` runs every test, `make check` the quick
# tier of them. All set up .venv first.
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

.PHONY: html test check browser notebooks bench clean venv

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

# What the browser tests need and never install themselves: Debian's chromium (never a
# downloaded browser build) and the pinned npm assets (the widgets' front-end, axe-core).
browser: $(STAMP)
	command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }
	$(BIN)/python tools/fetch_widget_js.py
	$(BIN)/python tools/fetch_widget_js.py --test

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The edit-test loop (target <= 2 min on 2 cores): the unit tests, without the book build, the
# browser, JupyterLab, the lessons' own code, and the modules that train every framework or
# start one process per case. `make test` still runs all of them.
CHECK_SKIPS := book browser live_jupyter lesson_runs pages contract rosetta keras_mlp \
	tf_lowlevel fastai_mlp frameworks bench faults
check: $(STAMP)
	$(BIN)/python -m pytest -q -m "not book and not browser" -p no:cacheprovider \
		$(foreach name,$(CHECK_SKIPS),--ignore=tests/test_$(name).py)

bench: $(STAMP)
	$(BIN)/python -m forcemlp bench --epochs 1

clean:
	rm -rf _build
