#!/usr/bin/env bash
# Installs the Debian packages Akademia needs when run as root; otherwise says what is missing.
#   system_deps.sh run   what the app needs (PDF rendering: Pango, HarfBuzz subsetting, fonts)
#   system_deps.sh test  that, plus Chromium, PostgreSQL, Redis, npm (axe-core) and PDF checkers
set -euo pipefail
mode=${1:-run}
need=()
has_pkg() { dpkg -s "$1" >/dev/null 2>&1; }
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; do
  has_pkg "$pkg" || need+=("$pkg")
done
if [ "$mode" = "test" ]; then
  command -v chromium >/dev/null || need+=(chromium)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  [ -x /usr/bin/redis-server ] || need+=(redis-server)
  command -v npm >/dev/null || need+=(npm)
  command -v qpdf >/dev/null || need+=(qpdf)
  command -v pdftotext >/dev/null || need+=(poppler-utils)
fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "Missing Debian packages: ${need[*]} (install them with: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
