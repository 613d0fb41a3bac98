# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test install scrapyd-node chromium pdf-tools clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "setuptools>=77" wheel
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Scrapyd 1.6 imports pkg_resources, which setuptools 81 dropped: the test's Scrapyd nodes get
# their own venv with an older setuptools and this wtm installed (as on a real node).
NODE_VENV := $(VENV)/scrapyd-node
NODE_STAMP := $(NODE_VENV)/.installed-stamp

$(NODE_STAMP): pyproject.toml
	$(PYTHON) -m venv $(NODE_VENV)
	$(NODE_VENV)/bin/python -m pip install --quiet "setuptools<81" "scrapyd>=1.6,<2"
	$(NODE_VENV)/bin/python -m pip install --quiet -e .
	touch $(NODE_STAMP)

scrapyd-node: $(NODE_STAMP)

demo: $(STAMP)
	$(VENV)/bin/wtm --data-dir wtm-data demo

# The browser tests need Debian's Chromium, its chromium-driver for Selenium (the workbench's
# keyboard test) and a CJK font for readable screenshots;
# install them when we are allowed to.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto sans cjk'; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null) \
			|| echo "warning: could not install chromium; the browser test will be skipped"; \
		else \
			echo "note: chromium not installed and not root; the browser test will be skipped"; \
		fi; \
	fi

# The PDF report (WeasyPrint) draws with Pango, subsets fonts with HarfBuzz and needs a CJK font
# to embed; its test reads the PDF back with poppler-utils (pdftoppm, pdftotext, pdffonts).
pdf-tools:
	@if ! command -v pdftoppm >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto sans cjk' || ! ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || ! ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 >/dev/null) \
			|| echo "warning: could not install poppler-utils; the PDF test will be skipped"; \
		else \
			echo "note: poppler-utils not installed and not root; the PDF test will be skipped"; \
		fi; \
	fi

test: $(STAMP) $(NODE_STAMP) chromium pdf-tools
	$(PY) -m pytest

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
