#!/usr/bin/env bash
# Set up the environment, then run every notebook's tests (smoke size) and the integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -n 2 -p no:cacheprovider "$@"
