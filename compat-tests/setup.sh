#!/usr/bin/env bash
# Idempotent: creates the virtualenvs used by the compat suite (one per profile + the runner).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYENV="${PYENV_ROOT:-$HOME/.pyenv}/versions"
REPO="$(dirname "$HERE")"

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

# The companion Django app (companion/), pip-installed (not editable) into a
# Django venv; re-installed whenever a file of companion/ changes.
companion_hash() {
  (cd "$REPO/companion" && find . -type f \( -name '*.py' -o -name '*.toml' -o -name '*.md' -o -name '*.cfg' \) \
     -not -path './build/*' -not -path '*.egg-info/*' -not -path '*/__pycache__/*' -print0 \
   | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

install_companion() {  # name
  local dir="$HERE/.venv-$1"
  local stamp="$dir/.companion.sha256"
  local want
  want="$(companion_hash)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  echo "setup.sh: installing companion/ into $dir" >&2
  "$dir/bin/python" -m pip install -q --no-deps --force-reinstall "$REPO/companion"
  rm -rf "$REPO/companion/build" "$REPO"/companion/*.egg-info
  echo "$want" > "$stamp"
}

mkvenv upstream "$PYENV/3.10.13/bin/python" "$HERE/requirements-upstream.txt"
mkvenv patched  "$PYENV/3.12.1/bin/python"  "$HERE/requirements-patched.txt"
mkvenv dj42     "$PYENV/3.11.7/bin/python"  "$HERE/requirements-dj42.txt"
mkvenv dj60     "$PYENV/3.12.1/bin/python"  "$HERE/requirements-dj60.txt"
mkvenv dj61     "$PYENV/3.12.1/bin/python"  "$HERE/requirements-dj61.txt"
mkvenv runner   "$PYENV/3.12.1/bin/python"  "$HERE/requirements-runner.txt"

for v in upstream patched dj42 dj60 dj61; do
  install_companion "$v"
done
