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

# Build the binaries the scripts and tests run. Checkouts share the target
# directory, and cargo leaves target/debug/<bin> as the last checkout that linked
# it: when another checkout did, touch the sources so this one relinks them.
build_binaries() {
  local marker="$CARGO_TARGET_DIR/debug/.aistm7-checkout"
  if [[ "$(cat "$marker" 2>/dev/null)" != "$ROOT" ]]; then
    touch "$ROOT/scripts/validator/src/main.rs" "$ROOT/scripts/idl/src/main.rs"
  fi
  (cd "$ROOT" && cargo build --locked -q -p aistm7-localnet -p aistm7-idl)
  printf '%s' "$ROOT" > "$marker"
}

# Run scripts/setup unless its last run matches the current inputs, then bring
# the binaries up to date with this checkout's sources.
ensure_setup() {
  if ! "$ROOT/scripts/setup" --check >/dev/null 2>&1; then
    "$ROOT/scripts/setup"
  fi
  build_binaries
}
