# Two commands set everything up on a fresh machine:
#   make app    virtual environment from the pinned requirements (if not there yet), then the Streamlit app
#   make test   the same environment plus the test tools, then the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: app test test-slow

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

# The browser test drives Debian's Chromium; install it when we can (root with apt-get), else that test skips.
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser test"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "note: could not install chromium: the browser test will be skipped"; \
	else echo "note: $(CHROMIUM) missing and cannot be installed here: the browser test will be skipped"; fi

test: $(BIN)/.test $(CHROMIUM)
	$(BIN)/python -m pytest -m "not slow"

# The slower end-to-end tests (the lab on the fixture, the benchmark command, two-worker training,
# faults injected while saving, schemathesis): CI runs them as a second step.
test-slow: $(BIN)/.test
	$(BIN)/python -m pytest -m slow
