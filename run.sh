#!/usr/bin/env bash
# Quick start: set up, build the movie corpus and the recommender on first run, then open the chat app.
# Usage: ./run.sh [--port N] [--data-dir DIR]     (the app listens on http://127.0.0.1:7860 by default)
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh app
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 ANONYMIZED_TELEMETRY=False LANGSMITH_TRACING=false
data_args=()
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = "--data-dir" ] && [ $((i + 1)) -lt ${#args[@]} ]; then data_args=(--data-dir "${args[$((i + 1))]}"); fi
done
.venv/bin/crs corpus build "${data_args[@]}"
# The trained collaborative recommender; retrain with: .venv/bin/crs train retriever
[ -f "${CRS_ARTIFACTS_DIR:-data/artifacts}/collab-v2.npz" ] || .venv/bin/crs train retriever "${data_args[@]}"
exec .venv/bin/crs chat "$@"
