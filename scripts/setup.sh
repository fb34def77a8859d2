#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install gestaltm3d with its development tools and Jupyter kernel.
# Safe to rerun: it reinstalls only when pyproject.toml changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "creating .venv with $("$PYTHON" --version)"
    "$PYTHON" -m venv .venv
fi

# requirements.lock pins the versions the figures were made with. It is used as a constraints file,
# so it fixes the version of each package the install needs and adds none. GESTALTM3D_NO_LOCK=1 skips it.
constraints=()
lock_hash=""
if [ -f requirements.lock ] && [ -z "${GESTALTM3D_NO_LOCK:-}" ]; then
    constraints=(-c requirements.lock)
    lock_hash="-$(sha256sum requirements.lock | cut -d' ' -f1)"
fi

stamp=.venv/.gestaltm3d-installed
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)${lock_hash}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "${constraints[@]}" -e ".[dev]"
    # The kernel that papermill and nbdev-test start: this environment's Python, named python3.
    .venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (gestaltm3d)" >/dev/null
    echo "$wanted" > "$stamp"
    echo "installed gestaltm3d into .venv"
fi
