#!/usr/bin/env bash
# Set up a fresh machine for Lianshen: system packages, the Python venv, browser-side packages.
# Idempotent: re-running installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
# Debian packages: headless Chromium for browser tests (never a browser download), CJK fonts for
# minutes PDFs and screenshots (Noto Serif CJK for 宋/小标宋-style, AR PL for 楷/明, cwTeX 仿宋 from
# which scripts/fangsong_font.py derives the body face), Pango for WeasyPrint, poppler-utils
# (pdftoppm) for the sample pictures of scripts/render_samples.py, iproute2/util-linux for the
# private network namespace of media tests, iptables for the random loss of the lossy-link media
# test (its `statistic` match; the kernel may have no netem), postgresql-client for `lianshen
# backup` / `restore` on PostgreSQL (pg_dump, pg_restore).
APT_PACKAGES=(chromium fonts-noto-cjk fonts-noto-cjk-extra fonts-arphic-ukai fonts-arphic-uming fonts-cwtex-fs libpango-1.0-0 libpangoft2-1.0-0 poppler-utils iproute2 util-linux iptables postgresql-client)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (run as root or install them): ${missing[*]}" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
# The stamp holds the hash of pyproject.toml it was installed from (a timestamp misses edits made
# while an install runs).
stamp=.venv/.lianshen-installed
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "setup: installing the project into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  echo "$wanted" > "$stamp"
fi

# The SFU's native send (server/sfu/_srtp_send.c, see server/sfu/srtp_send.py), compiled from
# source with the machine's C compiler; skipped when the built module is newer than its source.
.venv/bin/python scripts/build_native.py

# The minutes' 仿宋 body face, derived from cwTeX 仿宋 (see the script's docstring); fontconfig must
# see it before the first PDF is rendered.
if [ -f /usr/share/fonts/truetype/cwtex/cwfs.ttf ]; then
  .venv/bin/python scripts/fangsong_font.py && fc-cache >/dev/null
fi

if [ -f package.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    echo "setup: installing browser-side packages (npm ci: exactly the locked versions)"
    npm ci --no-audit --no-fund --silent
    touch node_modules
  fi
fi
echo "setup: done"
