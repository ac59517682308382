#!/usr/bin/env bash
# Install the Debian packages correspondence needs, if any is missing.
#   scripts/system-deps.sh runtime        what serving and rendering need (make run)
#   scripts/system-deps.sh runtime test   and what the test suite starts (make test)
#   scripts/system-deps.sh --list GROUP…  print the packages, install nothing
# As root it installs them with apt-get; otherwise it names what is missing and stops.
set -euo pipefail

RUNTIME=(
  libpango-1.0-0        # WeasyPrint text layout
  libpangoft2-1.0-0
  libharfbuzz-subset0   # WeasyPrint font subsetting (else it warns and falls back to fontTools)
  fontconfig
)
TEST=(
  postgresql            # the test suite starts its own PostgreSQL cluster from these binaries
  redis-server          # Celery's broker; the test suite starts its own
  chromium              # the staff UI tests drive Debian's Chromium (never `playwright install`)
  poppler-utils         # pdftoppm, pdfinfo, pdfsig: the visual, metadata and signature tests
  libnss3-tools         # certutil: the signature tests make pdfsig trust their own test CA
)

list=false
if [[ "${1:-}" == "--list" ]]; then list=true; shift; fi
[[ $# -gt 0 ]] || set -- runtime

packages=()
for group in "$@"; do
  case "$group" in
    runtime) packages+=("${RUNTIME[@]}") ;;
    test) packages+=("${TEST[@]}") ;;
    *) echo "unknown group: $group (runtime, test)" >&2; exit 2 ;;
  esac
done

if $list; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for pkg in "${packages[@]}"; do
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
