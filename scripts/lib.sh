# shellcheck shell=bash
# Shared helpers for scripts/setup, scripts/run and scripts/test. Source it; don't run it.
#
# Everything here is idempotent: a tool that is already installed at the right version is left
# alone and said so ("✓ …"). Only what is missing is installed.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

# cargo install puts binaries here; rustup's toolchain is here too.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if [[ -t 1 ]]; then
  _bold=$'\e[1m' _green=$'\e[32m' _yellow=$'\e[33m' _red=$'\e[31m' _reset=$'\e[0m'
else
  _bold='' _green='' _yellow='' _red='' _reset=''
fi

step() { printf '%s==> %s%s\n' "$_bold" "$*" "$_reset"; }
pass() { printf '%s✓ %s%s\n' "$_green" "$*" "$_reset"; }
fail() { printf '%s✗ %s%s\n' "$_red" "$*" "$_reset"; }
ok() { printf '%s✓%s %s\n' "$_green" "$_reset" "$*"; }
note() { printf '  %s\n' "$*"; }
warn() { printf '%s! %s%s\n' "$_yellow" "$*" "$_reset" >&2; }
die() {
  printf '%s✗ %s%s\n' "$_red" "$*" "$_reset" >&2
  exit 1
}

# Seconds since the epoch, for timings.
now() { date +%s; }

# ---------------------------------------------------------------------------------------------
# Debian packages

_APT_UPDATED=0

apt_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

# ensure_apt PKG... : installs the packages that are not installed yet (one apt-get update, once,
# only when something is missing).
ensure_apt() {
  local missing=() pkg
  for pkg in "$@"; do
    if apt_installed "$pkg"; then
      ok "$pkg $(dpkg-query -W -f='${Version}' "$pkg") already installed (apt)"
    else
      missing+=("$pkg")
    fi
  done
  ((${#missing[@]})) || return 0
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "missing ${missing[*]}: install them as root (apt-get install ${missing[*]})"
    sudo=(sudo)
  fi
  step "Installing ${missing[*]} (apt)"
  if ((_APT_UPDATED == 0)); then
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    _APT_UPDATED=1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for pkg in "${missing[@]}"; do
    apt_installed "$pkg" || die "apt-get did not install $pkg"
    ok "$pkg $(dpkg-query -W -f='${Version}' "$pkg") installed (apt)"
  done
}

# ---------------------------------------------------------------------------------------------
# Rust tools

ensure_rust() {
  command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"
  ok "$(cargo --version)"
}

ensure_wasm_target() {
  if rustup target list --installed 2>/dev/null | grep -qx 'wasm32-unknown-unknown'; then
    ok "rust target wasm32-unknown-unknown already installed"
  else
    step "Adding rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
    ok "rust target wasm32-unknown-unknown installed"
  fi
}

# The first x.y.z in a command's --version output, or nothing.
_version_of() {
  "$@" 2>/dev/null | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true
}

# Runs a command (a `cargo install`) with a release profile that builds fast: these tools do
# little work at run time, so LTO and a single codegen unit buy nothing but install minutes.
light_install_profile() {
  env CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_INCREMENTAL=false "$@"
}

# The wasm-bindgen version pinned in Cargo.lock (the CLI must match it exactly).
wasm_bindgen_lock_version() {
  awk '
    $0 == "[[package]]" { name = "" }
    $1 == "name" && $3 == "\"wasm-bindgen\"" { name = "wasm-bindgen" }
    name == "wasm-bindgen" && $1 == "version" { gsub(/"/, "", $3); print $3; exit }
  ' "$ROOT/Cargo.lock"
}

ensure_wasm_bindgen() {
  local want have
  want="$(wasm_bindgen_lock_version)"
  [[ -n "$want" ]] || die "no wasm-bindgen in Cargo.lock"
  have="$(_version_of wasm-bindgen --version)"
  if [[ "$have" == "$want" ]]; then
    ok "wasm-bindgen-cli $have already installed (matches Cargo.lock)"
    return
  fi
  step "Installing wasm-bindgen-cli $want${have:+ (found $have)} — a few minutes"
  # Without --locked, as the project's machine notes prescribe for this CLI.
  light_install_profile cargo install wasm-bindgen-cli --version "$want" --force
  have="$(_version_of wasm-bindgen --version)"
  [[ "$have" == "$want" ]] || die "wasm-bindgen is $have after install, wanted $want"
  ok "wasm-bindgen-cli $have installed"
}

# Everything build_site needs.
ensure_build_tools() {
  ensure_rust
  ensure_wasm_target
  ensure_wasm_bindgen
  # wasm-opt is only used by release builds; cheap to have.
  ensure_apt binaryen
}

# ---------------------------------------------------------------------------------------------
# Browser tests

ensure_node() {
  command -v node >/dev/null || ensure_apt nodejs npm
  command -v npm >/dev/null || ensure_apt npm
  ok "node $(node --version), npm $(npm --version 2>/dev/null)"
}

# npm ci in end2end/ when node_modules is missing or package-lock.json changed since the last one.
ensure_npm_packages() {
  local dir="$ROOT/end2end" stamp sum
  stamp="$dir/node_modules/.tollgate-lock.sha256"
  sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" ]]; then
    ok "end2end npm packages already installed (package-lock.json unchanged)"
    return
  fi
  step "npm ci in end2end/"
  # Playwright must never fetch a browser of its own: it drives Debian's chromium.
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  printf '%s\n' "$sum" >"$stamp"
  ok "end2end npm packages installed"
}

ensure_browser_tools() {
  ensure_apt chromium
  ensure_node
  ensure_npm_packages
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL (a throwaway server for the Postgres test suite)

ensure_postgres() {
  ensure_apt postgresql
}

# The newest installed PostgreSQL server's bin directory.
pg_bindir() {
  local dir
  dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1)"
  [[ -x "$dir/initdb" ]] || die "no PostgreSQL server found under /usr/lib/postgresql (apt-get install postgresql)"
  printf '%s\n' "$dir"
}

# Runs a command as the postgres user when we are root (PostgreSQL refuses to run as root).
_as_pg() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# pg_start [durable]: initdb + start a server in a fresh temp dir on a free port.
# Sets PG_DIR, PG_PORT, PG_URL (superuser, database "postgres"). Stop it with pg_stop.
# Without `durable` (the tests) durability is off; with it (scripts/bench) the server keeps
# PostgreSQL's durable defaults, so a commit waits for its WAL flush as in production.
pg_start() {
  local bindir password durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [[ "${1:-}" == durable ]] && durability=""
  bindir="$(pg_bindir)"
  PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-pg.XXXXXX")"
  PG_PORT="$(free_port)"
  password="tollgate-test-$RANDOM$RANDOM"
  printf '%s\n' "$password" >"$PG_DIR/pwfile"
  if ((EUID == 0)); then chown -R postgres:postgres "$PG_DIR"; fi
  _as_pg "$bindir/initdb" -D "$PG_DIR/data" --username=tollgate --pwfile="$PG_DIR/pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 ||
    { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  # log_connections lets scripts/test check that the suite really used this server.
  _as_pg "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 $durability -c log_connections=on" \
    start >/dev/null ||
    { cat "$PG_DIR/server.log" >&2; die "PostgreSQL did not start"; }
  PG_URL="postgres://tollgate:$password@127.0.0.1:$PG_PORT/postgres"
  export PG_DIR PG_PORT PG_URL
  ok "PostgreSQL $("$bindir/postgres" --version | grep -Eo '[0-9]+(\.[0-9]+)+' | head -n1) started on 127.0.0.1:$PG_PORT (data in $PG_DIR)"
}

pg_stop() {
  [[ -n "${PG_DIR:-}" && -d "$PG_DIR/data" ]] || return 0
  _as_pg "$(pg_bindir)/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}

# ---------------------------------------------------------------------------------------------
# Misc

# A TCP port on 127.0.0.1 that is free right now.
free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null || {
      echo "$port"
      return
    }
  done
}

# wait_for_http URL SECONDS PID : polls until URL answers 2xx; fails early if PID died.
wait_for_http() {
  local url="$1" seconds="$2" pid="${3:-}" i
  for ((i = 0; i < seconds * 4; i++)); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
      return 0
    fi
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.25
  done
  return 1
}

# build_site debug|release : builds the site into target/site and the server binary:
#   1. the browser half (build_browser_half);
#   2. the server binary with `ssr` (build_server).
# Why not cargo-leptos: built from source (no prebuilt binaries reach these machines) it costs
# about 17 minutes of 2 cores, more than a third of the cold CI budget, for these few steps.
# No build gets `--cfg erase_components` (cargo-leptos gives it to debug builds): every build,
# tests included, compiles the view types exactly as the release build does, so a view tree too
# deep for rustc fails in the first cargo command, not in a release build nobody ran.
build_site() {
  build_browser_half "$1"
  build_server "$1"
}

# build_browser_half debug|release : what `cargo leptos build` does for the browser, for this
# project (no Tailwind, Sass or file hashing):
#   1. the lib as a cdylib for wasm32 with `hydrate` (profile wasm-dev or wasm-release);
#   2. wasm-bindgen into target/site/pkg as tollgate.js + tollgate.wasm (the names Leptos'
#      HydrationScripts asks for when LEPTOS_OUTPUT_NAME is set at compile time);
#   3. release only: wasm-opt -Oz;
#   4. style/main.css as pkg/tollgate.css, and public/ copied into the site root.
build_browser_half() {
  local profile="$1" site="$ROOT/target/site" target_dir wasm_profile
  target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
  case "$profile" in
    debug) wasm_profile=wasm-dev ;;
    release) wasm_profile=wasm-release ;;
    *) die "build_browser_half: unknown profile $profile" ;;
  esac
  step "[site] the browser half: cargo rustc --lib --crate-type cdylib --target wasm32-unknown-unknown --features hydrate --profile $wasm_profile"
  env LEPTOS_OUTPUT_NAME=tollgate cargo rustc -p tollgate --lib --crate-type cdylib \
    --target wasm32-unknown-unknown --no-default-features --features hydrate --profile "$wasm_profile"
  step "[site] wasm-bindgen into target/site/pkg"
  rm -rf "$site/pkg"
  mkdir -p "$site/pkg"
  wasm-bindgen --target web --no-typescript --out-dir "$site/pkg" --out-name tollgate \
    "$target_dir/wasm32-unknown-unknown/$wasm_profile/tollgate.wasm"
  mv "$site/pkg/tollgate_bg.wasm" "$site/pkg/tollgate.wasm"
  if [[ "$profile" == release ]]; then
    step "[site] wasm-opt -Oz"
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
      --enable-reference-types --enable-mutable-globals --enable-multivalue \
      "$site/pkg/tollgate.wasm" -o "$site/pkg/tollgate.wasm"
  fi
  cp "$ROOT/style/main.css" "$site/pkg/tollgate.css"
  cp -R "$ROOT/public/." "$site/"
}

# build_server debug|release : the server binary, target/<debug|release>/tollgate.
build_server() {
  local args=()
  case "$1" in
    debug) ;;
    release) args=(--release) ;;
    *) die "build_server: unknown profile $1" ;;
  esac
  step "[site] the server: cargo build --bin tollgate --features ssr ${args[*]}"
  env LEPTOS_OUTPUT_NAME=tollgate cargo build -p tollgate --bin tollgate --no-default-features --features ssr "${args[@]}"
}

# Runtime settings the server needs to find the site build_site made.
export_leptos_runtime_env() {
  export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
  export LEPTOS_SITE_PKG_DIR="${LEPTOS_SITE_PKG_DIR:-pkg}"
  export LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-tollgate}"
}
