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

# Every cargo command here selects the whole workspace (`--workspace`): cargo
# picks our crates' build flags per selection, so `-p a` after `-p b` rebuilds
# them, while one selection for build and test keeps a warm switch at zero
# rebuilds.
#
# Build the binaries the scripts and tests run. Checkouts share the target
# directory, and cargo leaves target/debug/<bin> as the last checkout that built
# it: when another checkout did, touch our sources so this one rebuilds them.
build_binaries() {
  local marker="$CARGO_TARGET_DIR/debug/.aistm7-checkout"
  if [[ "$(cat "$marker" 2>/dev/null)" != "$ROOT" ]]; then
    # Cargo records our crates' sources relative to the workspace and compares
    # mtimes: a file edited here before another checkout built would look
    # older than that build. Newer mtimes make every target (tests, the IDL
    # build under idl/) rebuild from this checkout's sources.
    find "$ROOT/programs" "$ROOT/scripts/validator" "$ROOT/scripts/idl" "$ROOT/scripts/host" \
      -name '*.rs' -exec touch {} +
  fi
  (cd "$ROOT" && cargo build --locked -q --workspace)
  printf '%s' "$ROOT" > "$marker"
}

# Checkouts share the target directory, and cargo names our own crates'
# outputs the same whichever checkout builds them: one checkout at a time
# builds there and uses what it built (file descriptor 9 holds the lock, for
# this process and its children). A second checkout waits, saying so.
lock_target_dir() {
  [[ -n "${AISTM7_TARGET_LOCKED:-}" ]] && return
  mkdir -p "$CARGO_TARGET_DIR"
  exec 9>"$CARGO_TARGET_DIR/.checkout.lock"
  if ! flock -n 9; then
    log "waiting for another checkout that builds or runs from $CARGO_TARGET_DIR"
    flock 9
  fi
  export AISTM7_TARGET_LOCKED=1
}

# Give the lock back (after copying out what a long run needs).
unlock_target_dir() {
  exec 9>&-
  unset AISTM7_TARGET_LOCKED
}

# A copy of the local validator this checkout built, to run without holding
# the lock (another checkout may rebuild the shared one meanwhile).
own_localnet_bin() {
  local own="$AISTM7_VENV/bin/aistm7-localnet"
  mkdir -p "$(dirname "$own")"
  cp -f "$AISTM7_LOCALNET_BIN" "$own.tmp" && mv -f "$own.tmp" "$own"
  printf '%s' "$own"
}

# Run scripts/setup unless its last run matches the current inputs, then bring
# the binaries up to date with this checkout's sources.
ensure_setup() {
  lock_target_dir
  if ! "$ROOT/scripts/setup" --check >/dev/null 2>&1; then
    "$ROOT/scripts/setup"
  fi
  build_binaries
}
