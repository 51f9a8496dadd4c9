# Shared settings for the scripts in this directory (sourced, not run).
# Build products live outside the clone so that repeated setups are warm.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AISTM7_CACHE="${AISTM7_CACHE:-$HOME/.cache/aistm7}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$AISTM7_CACHE/target}"
# The virtualenv belongs to the checkout (it installs this checkout's keeper in
# editable mode); pip's wheel cache keeps a fresh one quick.
export AISTM7_VENV="${AISTM7_VENV:-$ROOT/.venv}"
export AISTM7_LOCALNET_BIN="${AISTM7_LOCALNET_BIN:-$CARGO_TARGET_DIR/debug/aistm7-localnet}"
# Cargo and rustup as rustup installs them, whatever the login shell did.
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# Run scripts/setup unless its last run matches the current inputs, then bring
# the validator binary up to date with the sources (a no-op when it is).
ensure_setup() {
  if ! "$ROOT/scripts/setup" --check >/dev/null 2>&1; then
    "$ROOT/scripts/setup"
  fi
  (cd "$ROOT" && cargo build --locked -q -p aistm7-localnet)
}
