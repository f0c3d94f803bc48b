#!/usr/bin/env bash
# Audit the pinned dependencies installed in .venv for known vulnerabilities.
# pip-audit first; where its vulnerability service is unreachable, PyPI's per-project JSON
# (scripts/audit_pypi.py: exact for pins at the latest release, the rest listed as NOT CHECKED).
# Fails (exit 1) on a known vulnerability that is not reviewed and accepted in
# scripts/audit_accepted.toml; exits 0 with "NOT CHECKED" when nothing can be looked up.
# See docs/security.md.
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
# Everything installed in .venv except CineCRS itself, pinned as installed.
.venv/bin/uv pip freeze -p .venv/bin/python | grep -v -e '^-e ' -e '^cinecrs' > "$work/requirements.txt"
status=0
if [ ! -x "$AUDIT_VENV/bin/pip-audit" ] || ! "$AUDIT_VENV/bin/pip-audit" --version 2>/dev/null | grep -q "$PIP_AUDIT_VERSION"; then
  # pip-audit lives in its own venv so that its dependencies are not audited as ours
  if ! { .venv/bin/uv venv -q "$AUDIT_VENV" && .venv/bin/uv pip install -q -p "$AUDIT_VENV/bin/python" "pip-audit==$PIP_AUDIT_VERSION"; } >"$work/install.log" 2>&1; then
    echo "note: could not install pip-audit==$PIP_AUDIT_VERSION ($(tail -n 1 "$work/install.log"))"
  fi
fi
if [ -x "$AUDIT_VENV/bin/pip-audit" ]; then
  echo "==> pip-audit $PIP_AUDIT_VERSION over $(wc -l < "$work/requirements.txt") installed packages"
  timeout 300 "$AUDIT_VENV/bin/pip-audit" -r "$work/requirements.txt" --no-deps --disable-pip --progress-spinner off \
    -f json -o "$work/audit.json" >"$work/audit.log" 2>&1
  status=$?
fi
if ! .venv/bin/python scripts/audit_verdict.py "$work/audit.json" --reachable; then
  echo "==> pip-audit could not reach its vulnerability service; asking PyPI's per-project JSON instead"
  .venv/bin/python scripts/audit_pypi.py "$work/requirements.txt" "$work/audit.json"
  status=$?
fi
.venv/bin/python scripts/audit_verdict.py "$work/audit.json" "$status" --accepted scripts/audit_accepted.toml
