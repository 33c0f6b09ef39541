#!/usr/bin/env bash
# Run the whole test suite. Media and browser tests run inside a private network namespace where
# only 127.0.0.1 exists, so no test can send media to this machine's other addresses.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p test-artifacts

# The static checks run first; a failure fails the run, yet the tests still run so one run shows
# everything that is wrong.
checks=0
.venv/bin/mypy server recorder minutes record || { echo "test: FAILED type check (mypy server recorder minutes record)" >&2; checks=1; }
.venv/bin/ruff check server recorder minutes record || { echo "test: FAILED lint (ruff check server recorder minutes record)" >&2; checks=1; }

status=0
"$PY" -m pytest -m "not media and not browser" "$@" || status=$?
if [ "$status" -eq 5 ]; then status=0; fi

if unshare -n true 2>/dev/null; then
  unshare -n sh -c 'ip link set lo up && exec "$0" -m pytest -m "media or browser" "$@"' "$PY" "$@"
  ns_status=$?
else
  echo "test: cannot create a network namespace here; running media/browser tests on loopback" >&2
  "$PY" -m pytest -m "media or browser" "$@"
  ns_status=$?
fi
if [ "$ns_status" -eq 5 ]; then ns_status=0; fi
[ "$checks" -eq 0 ] || echo "test: the type check or the lint failed (see above)" >&2
[ "$checks" -eq 0 ] && [ "$status" -eq 0 ] && [ "$ns_status" -eq 0 ]
