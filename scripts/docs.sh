#!/usr/bin/env bash
# Set up the environment, then check the documentation site: the privacy guard, the notebooks' title
# cells, nbdev's processing into _proc/, an HTML preview in _preview/ and the preview's links.
# Other arguments go to `python -m gestaltm3d.docs check`, for example `--notebook index.ipynb`.
# With --render as the first argument it then renders the real site with nbdev-docs into _docs/
# (this needs Quarto 1.5 or later on PATH) and checks that site's links as well.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

render=false
if [ "${1:-}" = "--render" ]; then
    render=true
    shift
fi

.venv/bin/python -m gestaltm3d.docs check "$@"

if $render; then
    # nbdev-docs would try to download and install Quarto itself when it is missing.
    if ! command -v quarto >/dev/null; then
        echo "quarto not found on PATH: install Quarto 1.5 or later (https://quarto.org) to render the site;" \
             "the check above does not need it" >&2
        exit 1
    fi
    # Quarto's pre-render step runs `python -m gestaltm3d.docs prerender`, which needs this environment's python.
    PATH="$PWD/.venv/bin:$PATH" .venv/bin/nbdev-docs
    .venv/bin/python -m gestaltm3d.docs links _docs --site-url "$(.venv/bin/python -c \
        'from nbdev.config import get_config; c = get_config(); print(c.doc_host + c.doc_baseurl)')"
fi
