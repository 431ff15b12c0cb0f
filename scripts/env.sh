# Sourced by scripts/demo and scripts/test: find ComfyUI and prepare the Python environment.
# Sets ROOT, VENV, VPY (the venv's python) and COMFYUI (empty when no ComfyUI checkout is found).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SEED_NUMBER_CACHE:-$HOME/.cache/seed-number}
VENV=${SEED_NUMBER_VENV:-$CACHE/venv}
BASE_PY=${PYTHON:-python3}
export SEED_NUMBER_CACHE=$CACHE

say() { printf '[seed-number] %s\n' "$*" >&2; }

COMFYUI=""
for candidate in "${COMFYUI_PATH:-}" "$HOME/comfy/ComfyUI"; do
  if [ -n "$candidate" ] && [ -f "$candidate/main.py" ] && [ -d "$candidate/comfy" ]; then
    COMFYUI=$(cd "$candidate" && pwd); break
  fi
done

if [ ! -x "$VENV/bin/python" ]; then
  say "creating the virtual environment $VENV"
  "$BASE_PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"

# Reinstall only when what we install changes (pyproject, ComfyUI's requirements, this script).
stamp_src="$(cat "$ROOT/pyproject.toml" "${BASH_SOURCE[0]}")"
[ -n "$COMFYUI" ] && stamp_src="$stamp_src$(cat "$COMFYUI/requirements.txt")"
stamp=$(printf '%s' "$stamp_src" | sha256sum | cut -c1-16)
if [ "$(cat "$VENV/.seed-number-stamp" 2>/dev/null)" != "$stamp" ]; then
  say "installing Python packages into $VENV (first run takes a few minutes)"
  "$VPY" -m pip install -q --upgrade pip
  if [ -n "$COMFYUI" ]; then
    # torchaudio is optional for ComfyUI (audio nodes only) and pins torch exactly: leave it out.
    grep -v -E '^\s*torchaudio\b' "$COMFYUI/requirements.txt" > "$VENV/comfyui-requirements.txt"
    "$VPY" -m pip install -q -r "$VENV/comfyui-requirements.txt"
  fi
  extras=$("$VPY" - "$ROOT/pyproject.toml" <<'PYEOF'
import sys, tomllib
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["optional-dependencies"]
print("\n".join(d for d in deps["dev"] if not d.startswith("seed-number")) + "\n" + "\n".join(deps["test"]))
PYEOF
)
  # shellcheck disable=SC2086
  printf '%s\n' "$extras" | sort -u > "$VENV/test-requirements.txt"
  "$VPY" -m pip install -q -r "$VENV/test-requirements.txt"
  printf '%s' "$stamp" > "$VENV/.seed-number-stamp"
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
[ -n "$COMFYUI" ] && export COMFYUI_PATH="$COMFYUI"
cd "$ROOT"
