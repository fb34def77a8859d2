#!/usr/bin/env bash
# Set up the environment, then run the main job on the synthetic demo cohort with papermill:
# 1. build the demo cohort into data/demo/ and print its statistics,
# 2. preprocess its photos into 224x224 faces in data/processed/demo/,
# 3. train and evaluate the vision-language classifier (tiny backbone) into runs/demo/.
# Executed notebooks go to runs/. Extra arguments are passed to the training step's papermill call.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p runs/demo_cohort runs/preprocess_demo runs/demo
# --log-output echoes every progress-bar update of the cohort notebook, so updates are limited to one per 10 s.
export TQDM_MININTERVAL="${TQDM_MININTERVAL:-10}"
papermill=".venv/bin/papermill"

$papermill nbs/03_demo_cohort.ipynb runs/demo_cohort/03_demo_cohort.ipynb \
    -f params/demo_cohort.yaml -k python3 --cwd nbs --log-output --no-progress-bar
.venv/bin/gestaltm3d-demo stats data/demo

$papermill nbs/04_preprocess.ipynb runs/preprocess_demo/04_preprocess.ipynb \
    -f params/preprocess_demo.yaml -k python3 --cwd nbs --no-progress-bar

$papermill nbs/05_train_vl.ipynb runs/demo/05_train_vl.ipynb \
    -f params/demo.yaml -k python3 --cwd nbs --no-progress-bar "$@"
.venv/bin/python - <<'PY'
import json
metrics = json.load(open("runs/demo/metrics.json"))
ci = metrics["ci"]["macro_top1"]
print(f"demo test set: {metrics['n_test']} images; top-1 {metrics['top1']:.3f}, "
      f"macro top-1 {metrics['macro_top1']:.3f} (95% CI {ci[0]:.3f}-{ci[1]:.3f}), macro-F1 {metrics['macro_f1']:.3f}")
print("metrics, predictions and figures: runs/demo/")
PY
