#!/usr/bin/env bash
# Install the Debian packages tipsom's tests and reports need, only when missing.
# Chromium (browser tests), PostgreSQL 15 (store tests on the multi-user backend),
# and the Pango/HarfBuzz/font stack WeasyPrint needs to render PDFs offline.
# `system-deps.sh bench` also installs wrk, the load generator of the web benchmark.
set -euo pipefail
need=()
if [ "${1:-}" = "bench" ]; then command -v wrk >/dev/null 2>&1 || need+=(wrk); fi
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
ldconfig -p | grep -q libpango-1.0 || need+=(libpango-1.0-0)
ldconfig -p | grep -q libpangoft2-1.0 || need+=(libpangoft2-1.0-0)
ldconfig -p | grep -q libharfbuzz-subset || need+=(libharfbuzz-subset0)
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
# PyICU (pulled in by followthemoney's name normalisation) builds from source against ICU.
[ -f /usr/include/unicode/utypes.h ] || need+=(libicu-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
fc-list 2>/dev/null | grep -qi "noto.*arab\|dejavu" || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  echo "system-deps: installing ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
