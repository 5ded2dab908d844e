# The two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 5000

PYTEST_WORKERS ?= 3

.PHONY: run test test-fast screenshots lint bench bench-load client android-src android android-release android-art system-deps clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[server,client,dev]'
	touch $(STAMP)

## Build the environment, migrate and seed the demo rally into SQLite, and serve the app.
## QR codes point to PUBLIC_BASE_URL when it is set; otherwise to the address served at, which
## `artcaching run` records in the instance folder for every later command (CLI exports too).
## HOST=0.0.0.0 serves every interface and prints the LAN address on the codes.
run: $(STAMP)
	$(BIN)/artcaching db upgrade
	$(BIN)/artcaching seed-demo
	$(BIN)/artcaching run --host $(HOST) --port $(PORT)

## Install what the tests need (system packages too, when root) and run them all, on
## PYTEST_WORKERS processes (pytest-xdist; PYTEST_WORKERS=0 runs them in this process).
test: $(STAMP) system-deps
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

## The inner loop: SQLite only, without the browser, Kivy, end-to-end and slow tests.
test-fast: $(STAMP)
	env -u TEST_DATABASE_URL $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile \
		-m "not browser and not kivy and not e2e and not slow"

## Refresh the README's pictures in docs/images (the tests otherwise leave them as they are).
screenshots: $(STAMP) system-deps
	ARTCACHING_UPDATE_IMAGES=1 $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile \
		tests/browser tests/client/test_ui_screens.py

## Install Chromium, Xvfb, poppler and fonts from Debian when they are missing.
system-deps:
	bash .ci/system-deps

## The style: ruff's lints and its formatter, and mypy on the domain and the client core.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Every bench module but the load test: figures and ratios beside their targets (bench/README.md).
bench: $(STAMP)
	$(BIN)/python -m bench

## The load test: two gunicorn instances x 2 sync workers on a temporary PostgreSQL database
## (127.0.0.1:5432, user postgres) and a Redis of its own, TEAMS teams checking in every 5 s for
## SECONDS seconds; TEAMS=500,1000,1500 steps and reports the largest N that holds (bench/README.md).
TEAMS   ?= 1000
SECONDS ?= 60
bench-load: $(STAMP)
	$(BIN)/python -m bench.load --teams $(TEAMS) --seconds $(SECONDS)

client: $(STAMP)
	$(BIN)/artcaching-client

## The folder buildozer packs: p4a wants main.py at its top, beside client/, markers/, routes/.
## ARTCACHING_DEFAULT_SERVER (e.g. https://events.example.org) becomes the app's default server,
## written to client/build_config.json in that folder; empty: no default (docs/android.md).
ARTCACHING_DEFAULT_SERVER ?=
export ARTCACHING_DEFAULT_SERVER
ANDROID_SRC ?= build/android
android-src:
	rm -rf $(ANDROID_SRC) && mkdir -p $(ANDROID_SRC)
	cp -r client markers routes $(ANDROID_SRC)/
	cp client/android/main.py $(ANDROID_SRC)/main.py
	find $(ANDROID_SRC) -name __pycache__ -prune -exec rm -rf {} +
	$(PYTHON) client/android/build_config.py $(ANDROID_SRC)

## The debug APK and the release app bundle (need buildozer, the Android SDK and NDK: see
## docs/android.md). buildozer.spec's source.dir is build/android.
android: android-src
	cd client/android && buildozer android debug

android-release: android-src
	cd client/android && buildozer android release

## Redraw the launcher icon and the presplash (client/android/art/, checked in).
android-art: $(STAMP)
	$(BIN)/python client/android/make_art.py

clean:
	rm -rf $(VENV) instance artifacts .pytest_cache .ruff_cache .hypothesis
