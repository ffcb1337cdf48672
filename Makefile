# Two commands set everything up on a fresh machine:
#   make app    virtual environment from the pinned requirements (if not there yet), then the Streamlit app
#   make test   the same environment plus the test tools, then the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: app test

$(BIN)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.test: $(BIN)/.runtime requirements-test.txt
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

app: $(BIN)/.runtime
	$(BIN)/streamlit run app.py

test: $(BIN)/.test
	$(BIN)/python -m pytest
