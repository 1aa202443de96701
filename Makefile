# Two entry points on a fresh machine: `make demo` and `make test`. Both start with the idempotent `make setup`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
DATAGET := $(BIN)/dataget
DEMO_RELEASES ?= 3000
DEMO_DIR ?= dumps/demo

.PHONY: setup system-packages python stack-build test test-slow demo lint bench clean

setup: system-packages python stack-build

# Java, Maven, Go, gcc and Rust come with this kind of machine; Redis and the browser for the one browser test come from
# apt. gcc compiles producers/record_tree.pyx (the producer's record writer) at install; cargo builds the Redis module
# (stack/redis_roaring), whose bindgen needs libclang; Debian's cargo is too old for its crates, hence rustup.
system-packages:
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup (https://rustup.rs)"; exit 1; }
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	command -v mvn >/dev/null || missing="$$missing maven"; \
	command -v go >/dev/null || missing="$$missing golang-go"; \
	command -v gcc >/dev/null || missing="$$missing gcc"; \
	dpkg -s libclang-dev >/dev/null 2>&1 || missing="$$missing libclang-dev"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BIN)/python:
	python3 -m venv $(VENV)

$(VENV)/.installed: pyproject.toml setup.py producers/record_tree.pyx | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

python: $(VENV)/.installed

stack-build: python
	$(DATAGET) stack build

test: setup
	cd stack/ferretdb && CGO_ENABLED=0 go test ./...
	$(DATAGET) stack up
	$(BIN)/pytest -q

# The long fault tests (killed workers, restarted servers), left out of `make test`.
test-slow: setup
	$(DATAGET) stack up
	$(BIN)/pytest -q --slow -m slow

# mypy checks the project packages listed under [tool.mypy] in pyproject.toml.
lint: python
	$(BIN)/ruff check .
	$(BIN)/mypy

demo: setup
	$(DATAGET) stack up
	$(DATAGET) demo --releases $(DEMO_RELEASES) --out $(DEMO_DIR)

bench: setup
	$(DATAGET) stack up
	$(BIN)/python bench/producer.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/query.py

clean:
	-$(DATAGET) stack down --purge
	rm -rf $(VENV) .state dumps
