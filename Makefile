# The README's commands. CI (.ci/run) calls the same targets.
#
# Without DATABASE_URL in the environment, every target that needs a database starts the
# project-local PostgreSQL under .local/pgdata (portal/localdb.py) and uses it.

PYTHON ?= $(shell command -v python3.13 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# Runs a command with DATABASE_URL set: the caller's if given, else the project-local server's.
with_db = DATABASE_URL="$${DATABASE_URL:-$$($(PY) -m portal.localdb url)}"
# For serve and bench: the caller's REDIS_URL, else Redis on this machine if one answers, else
# none (cache and sessions then live in the database).
with_redis = REDIS_URL="$${REDIS_URL:-$$($(PY) -c 'import socket; s = socket.socket(); s.settimeout(0.3); print("redis://127.0.0.1:6379/0" if s.connect_ex(("127.0.0.1", 6379)) == 0 else "")')}"

.PHONY: install run serve test lint format check pytest browser bench messages backup restore stop-db clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), "Python 3.13 is needed, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

run: install
	export $(with_db) && \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py createcachetable && \
	$(PY) manage.py load_demo && \
	{ $(PY) manage.py work & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; } && \
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver $(HOST):$(PORT)

# The production-like server: DEBUG off, static files from the app server itself (WhiteNoise),
# granian with one process per core (README "Production" says why), and a message worker beside it
# (README "Messages").
WORKERS ?= 2
serve: install
	export $(with_db) $(with_redis) && \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py createcachetable && \
	$(PY) manage.py collectstatic --noinput -v0 && \
	$(PY) manage.py load_demo && \
	{ DEBUG=false $(PY) manage.py work & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; } && \
	DEBUG=false $(VENV)/bin/granian --interface wsgi --host $(HOST) --port $(PORT) \
	  --workers $(WORKERS) --blocking-threads 4 portal.wsgi:application

test: install lint check pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: install
	export $(with_db) && \
	$(PY) manage.py check && \
	$(PY) manage.py makemigrations --check --dry-run

pytest: install
	export $(with_db) && DJANGO_ALLOW_ASYNC_UNSAFE=true $(VENV)/bin/pytest $(PYTEST_ARGS)

browser: install
	export $(with_db) && DJANGO_ALLOW_ASYNC_UNSAFE=true $(VENV)/bin/pytest tests/browser $(PYTEST_ARGS)

bench: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	export $(with_db) $(with_redis) && $(PY) bench/near.py && $(PY) bench/run.py && $(PY) bench/sheets.py && $(PY) bench/coverage.py && $(PY) bench/exports.py && $(PY) bench/enrolment.py && $(PY) bench/messages.py && $(PY) bench/load.py

messages: install
	export $(with_db) && \
	$(PY) manage.py makemessages --locale zh_Hans --no-obsolete --no-location --ignore '.venv/*' --ignore '.local/*' --ignore 'tests/*' && \
	$(PY) manage.py compilemessages --ignore '.venv/*'

# The database and the photos, into backups/<UTC time>/ (README "Backups").
BACKUP_DIR ?= backups
backup: install
	export $(with_db) && $(PY) -m portal.backup backup --dir "$(BACKUP_DIR)"

# make restore BACKUP=backups/<name> [CONFIRM=yes]: replaces the data, so it asks first.
restore: install
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=backups/<name> [CONFIRM=yes]" >&2; exit 2; }
	export $(with_db) && $(PY) -m portal.backup restore "$(BACKUP)" $(if $(filter yes,$(CONFIRM)),--yes)

stop-db: install
	$(PY) -m portal.localdb stop

clean: stop-db
	rm -rf .local $(VENV) .pytest_cache .ruff_cache
