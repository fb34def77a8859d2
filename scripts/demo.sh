#!/usr/bin/env bash
# Set up the environment, then run the demo job with papermill: build the synthetic demo cohort
# into data/demo/ and print its statistics. The executed notebook goes to runs/demo_cohort/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p runs/demo_cohort
.venv/bin/papermill nbs/03_demo_cohort.ipynb runs/demo_cohort/03_demo_cohort.ipynb \
    -f params/demo_cohort.yaml -k python3 --cwd nbs --log-output --no-progress-bar "$@"
.venv/bin/gestaltm3d-demo stats data/demo
