#!/usr/bin/env bash
# Install the Debian packages correspondence needs, if any is missing.
# As root it installs them with apt-get; otherwise it names what is missing and stops.
set -euo pipefail

PACKAGES=(
  libpango-1.0-0        # WeasyPrint text layout
  libpangoft2-1.0-0
  libharfbuzz-subset0   # WeasyPrint font subsetting (else it warns and falls back to fontTools)
  fontconfig
  postgresql            # the test suite starts its own PostgreSQL cluster from these binaries
  redis-server          # Celery's broker; the test suite starts its own
  chromium              # the staff UI tests drive Debian's Chromium (never `playwright install`)
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "correspondence needs these Debian packages: ${missing[*]}" >&2
  echo "Install them as root:  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
