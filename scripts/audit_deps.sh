#!/usr/bin/env bash
# Audit the pinned dependencies installed in .venv for known vulnerabilities (pip-audit).
# Fails (exit 1) on a known vulnerability; reports "NOT CHECKED" and exits 0 when the
# vulnerability service cannot be reached (offline CI). See docs/security.md.
set -uo pipefail
cd "$(dirname "$0")/.."
PIP_AUDIT_VERSION="2.10.1"
AUDIT_VENV="${CRS_AUDIT_VENV:-${TMPDIR:-/tmp}/crs-audit-venv}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ ! -x .venv/bin/python ]; then
  echo "dependency audit: no .venv yet (run scripts/setup.sh dev first)" >&2
  exit 1
fi
if [ ! -x "$AUDIT_VENV/bin/pip-audit" ] || ! "$AUDIT_VENV/bin/pip-audit" --version 2>/dev/null | grep -q "$PIP_AUDIT_VERSION"; then
  # pip-audit lives in its own venv so that its dependencies are not audited as ours
  if ! { .venv/bin/uv venv -q "$AUDIT_VENV" && .venv/bin/uv pip install -q -p "$AUDIT_VENV/bin/python" "pip-audit==$PIP_AUDIT_VERSION"; } >"$work/install.log" 2>&1; then
    echo "dependency audit NOT CHECKED: could not install pip-audit==$PIP_AUDIT_VERSION ($(tail -n 1 "$work/install.log"))"
    exit 0
  fi
fi
# Everything installed in .venv except CineCRS itself, pinned as installed.
.venv/bin/uv pip freeze -p .venv/bin/python | grep -v -e '^-e ' -e '^cinecrs' > "$work/requirements.txt"
echo "==> pip-audit $PIP_AUDIT_VERSION over $(wc -l < "$work/requirements.txt") installed packages"
timeout 300 "$AUDIT_VENV/bin/pip-audit" -r "$work/requirements.txt" --no-deps --disable-pip --progress-spinner off \
  -f json -o "$work/audit.json" >"$work/audit.log" 2>&1
status=$?
.venv/bin/python scripts/audit_verdict.py "$work/audit.json" "$status"
