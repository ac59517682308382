#!/usr/bin/env bash
# Print the path of a uv executable, installing uv from PyPI first if there is none:
# on the PATH, then ~/.local/bin/uv; else `pip install --user uv` (with Debian's pip
# installed first when we are root and python3 has no pip).
set -euo pipefail

found=$(command -v uv 2>/dev/null || true)
if [[ -z "$found" && -x "$HOME/.local/bin/uv" ]]; then found="$HOME/.local/bin/uv"; fi
if [[ -n "$found" ]]; then echo "$found"; exit 0; fi

if ! python3 -m pip --version >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "uv is missing and python3 has no pip: install uv (pip install --user uv) or python3-pip" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
fi
python3 -m pip install --quiet --user uv >&2 2>/dev/null \
  || python3 -m pip install --quiet --user --break-system-packages uv >&2
user_bin=$(python3 -c 'import site, os; print(os.path.join(site.USER_BASE, "bin"))')
echo "$user_bin/uv"
