# Shared settings for the scripts in this directory (sourced, not run).
# Build products live outside the clone so that repeated setups are warm.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AISTM7_CACHE="${AISTM7_CACHE:-$HOME/.cache/aistm7}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$AISTM7_CACHE/target}"
export AISTM7_VENV="${AISTM7_VENV:-$AISTM7_CACHE/venv}"
export AISTM7_LOCALNET_BIN="${AISTM7_LOCALNET_BIN:-$CARGO_TARGET_DIR/debug/aistm7-localnet}"
# Cargo and rustup as rustup installs them, whatever the login shell did.
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# Run scripts/setup unless its last run matches the current inputs.
ensure_setup() {
  if ! "$ROOT/scripts/setup" --check >/dev/null 2>&1; then
    "$ROOT/scripts/setup"
  fi
}
