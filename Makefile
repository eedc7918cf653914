# dangan: two commands do all set-up on a fresh Debian 12 machine (as root), idempotently.
#   make demo   install everything, build a demo batch of scanned customer files, ingest, search
#   make test   install everything, run the whole test suite (SQLite and PostgreSQL)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng poppler-utils jbig2dec \
	fonts-noto-cjk fonts-arphic-ukai fonts-arphic-uming fonts-wqy-zenhei \
	postgresql redis-server python3-venv chromium
STAMP := $(VENV)/.installed

.PHONY: setup system-deps demo test bench clean messages

setup: system-deps $(STAMP)

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@command -v python3.11 >/dev/null && PYBIN=python3.11 || PYBIN=python3; \
	test -x $(PY) || $$PYBIN -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,postgres]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/dangan demo --home demo-data

test: setup
	bash .ci/tests.sh

bench: setup
	$(PY) bench/ocr_speed.py
	$(PY) bench/memory.py

# after changing user-facing text: new messages into src/dangan/locale/*/LC_MESSAGES/dangan.po
# (translate them, see docs/glossary.md), then the .mo files compiled
messages: setup
	$(PY) scripts/messages.py update

clean:
	rm -rf demo-data dangan-data test-artifacts
