#!/usr/bin/env bash
# Build the venvs (idempotent), then run the whole differential suite for both
# compat profiles in one pytest invocation. Exit code = pytest's.
#   DATABASE_URL        use this PostgreSQL server (else a private cluster is started)
#   CHUNKED_UPLOAD_BIN  candidate binary (default <repo>/target/release/chunked-upload)
#   COMPAT_CANDIDATE    rust (default) | django (a second Django as the candidate)
# Extra arguments go to pytest (e.g. -k csrf, -x).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$HERE/setup.sh" || exit $?
cd "$HERE"
export PYTHONDONTWRITEBYTECODE=1
exec "$HERE/.venv-runner/bin/python" -m pytest -q -p no:cacheprovider "$@"
