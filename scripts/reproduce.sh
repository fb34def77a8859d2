#!/usr/bin/env bash
# Set up the environment, then rerun every parameterized notebook of the demo set whose inputs changed
# (params, notebook source, package code, input data, package versions) with papermill, in dependency order.
# Executed notebooks go to runs/reproduce/, figures and tables to figures/ with figures/manifest.json.
# Arguments go to `python -m gestaltm3d.reproduce`: --dry-run, --force, --only STEP, --params-set public, --log-output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m gestaltm3d.reproduce "$@"
