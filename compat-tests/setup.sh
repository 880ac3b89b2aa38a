#!/usr/bin/env bash
# Idempotent: creates the virtualenvs used by the compat suite (one per profile + the runner).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYENV="${PYENV_ROOT:-$HOME/.pyenv}/versions"

mkvenv() {  # name python requirements
  local name="$1" py="$2" req="$3" dir="$HERE/.venv-$1"
  local stamp="$dir/.requirements.sha256"
  local want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [[ -x "$dir/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  if [[ ! -x "$py" ]]; then
    echo "setup.sh: missing interpreter $py" >&2; exit 1
  fi
  echo "setup.sh: building $dir" >&2
  rm -rf "$dir"
  "$py" -m venv "$dir"
  "$dir/bin/python" -m pip install -q -r "$req"
  echo "$want" > "$stamp"
}

mkvenv upstream "$PYENV/3.10.13/bin/python" "$HERE/requirements-upstream.txt"
mkvenv patched  "$PYENV/3.12.1/bin/python"  "$HERE/requirements-patched.txt"
mkvenv dj42     "$PYENV/3.11.7/bin/python"  "$HERE/requirements-dj42.txt"
mkvenv dj60     "$PYENV/3.12.1/bin/python"  "$HERE/requirements-dj60.txt"
mkvenv dj61     "$PYENV/3.12.1/bin/python"  "$HERE/requirements-dj61.txt"
mkvenv runner   "$PYENV/3.12.1/bin/python"  "$HERE/requirements-runner.txt"
