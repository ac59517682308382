#!/usr/bin/env bash
# Known vulnerabilities of the locked dependencies (uv.lock, every group), with pip-audit.
#
#   scripts/audit.sh            exit 0: every package checked, none vulnerable
#                               exit 1: a known vulnerability (pip-audit lists it)
#                               exit 2: the advisory database could not be reached, or a
#                                       package could not be checked: "no known
#                                       vulnerabilities" would mean nothing, so it fails
#
# AUDIT_SERVICE=osv chooses OSV instead of PyPI's advisory database.
set -euo pipefail
cd "$(dirname "$0")/.."

uv=$(scripts/uv.sh)
pip_audit=${PIP_AUDIT:-.venv/bin/pip-audit}
service=${AUDIT_SERVICE:-pypi}
requirements=$(mktemp)
report=$(mktemp)
trap 'rm -f "$requirements" "$report"' EXIT

"$uv" export --frozen --no-hashes --no-emit-project --all-groups >"$requirements"

status=0
"$pip_audit" --requirement "$requirements" --no-deps --disable-pip --strict \
    --vulnerability-service "$service" --progress-spinner off >"$report" 2>&1 || status=$?
cat "$report"

# pip-audit reports a package it could not look up as "not found" and, without --strict,
# still exits 0; with --strict it stops at the first. Either way: not audited, not passed.
if grep -qiE "could not be audited|not found on PyPI|ConnectionError|Max retries exceeded|Failed to resolve|Connection refused|ProxyError" "$report"; then
    echo "audit: FAILED: the advisory database ($service) could not be reached, or a package could not be checked" >&2
    exit 2
fi
if [ "$status" -ne 0 ]; then
    echo "audit: FAILED: pip-audit exited $status" >&2
    exit 1
fi
echo "audit: every locked package checked against $service: no known vulnerabilities"
