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
    # The installed environment takes about 8 GB (PyTorch's default Linux build brings 4 GB of CUDA libraries),
    # and pip needs room for the downloaded wheels on top while it installs.
    free_kb="$(df -Pk . | awk 'NR == 2 {print $4}')"
    if [ -n "$free_kb" ] && [ "$free_kb" -lt $((12 * 1024 * 1024)) ]; then
        echo "warning: $((free_kb / 1024)) MB free on the disk of $(pwd); the install needs up to 12 GB" \
             "while it runs (8 GB afterwards). Free some space if pip stops with 'No space left on device'." >&2
    fi
    # --no-cache-dir: keep no second copy of the multi-GB wheels in ~/.cache/pip.
    # pip unpacks the wheels in a temporary folder. It goes on this disk, because /tmp can be a small RAM disk.
    pip_install=(.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-cache-dir)
    export TMPDIR="$(pwd)/.venv/.install-tmp"
    mkdir -p "$TMPDIR"
    trap 'rm -rf "$TMPDIR"' EXIT
    "${pip_install[@]}" --upgrade pip
    "${pip_install[@]}" "${constraints[@]}" -e ".[dev]"
    # The kernel that papermill and nbdev-test start: this environment's Python, named python3.
    .venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (gestaltm3d)" >/dev/null
    echo "$wanted" > "$stamp"
    echo "installed gestaltm3d into .venv"
fi
