# shellcheck shell=bash
# Installs what canary-gate's scripts need, only when it is missing.
# Sourced by scripts/test and scripts/demo; safe to run repeatedly.

# Debian packages the tests need: protoc and the well-known types for the Go
# gRPC peer, a real Prometheus (and promtool), curl and jq for the scripts,
# tmux for the `watch` terminal test, musl-tools for the release build,
# python3-botocore for tests/sigv4/verifier.py (AWS's own SigV4 signer checks
# every signature canary-gate computes).
# Go itself is not a Debian package here: the Go peers import Argo Rollouts
# at the releases users run, which need a newer Go than Debian ships.
CANARY_GATE_TEST_PACKAGES=(
  protobuf-compiler
  libprotobuf-dev
  prometheus
  curl
  jq
  tmux
  musl-tools
  python3-botocore
)

# The oldest Go the peers build with (argo-rollouts v1.9.1 declares go 1.24.9).
CANARY_GATE_MIN_GO=1.24

# deps_apt PKG... : apt-get install the packages that are not installed yet.
deps_apt() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing Debian packages: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# deps_go : fail clearly unless `go` is on PATH, at least CANARY_GATE_MIN_GO,
# and (with the module proxy) able to fetch modules. /usr/local/go/bin is
# where the machine image puts Go; add it when PATH lacks it.
deps_go() {
  if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  fi
  local v
  if ! v=$(go env GOVERSION 2>/dev/null); then
    echo "Go not found: the Go peers need Go >= $CANARY_GATE_MIN_GO on PATH (https://go.dev/dl) and the Go module proxy" >&2
    return 1
  fi
  local min_minor=${CANARY_GATE_MIN_GO#1.}
  if [[ ! $v =~ ^go1\.([0-9]+) ]] || ((BASH_REMATCH[1] < min_minor)); then
    echo "Go $v is too old: the Go peers need Go >= $CANARY_GATE_MIN_GO" >&2
    return 1
  fi
  echo "  $v, GOPROXY=$(go env GOPROXY)" >&2
}

# deps_go_prefetch : download the modules of every Go module of the tests in
# the background (network time overlaps the Rust build); prints the PID.
deps_go_prefetch() {
  local log=${1:-/dev/null}
  (
    for mod in tests/argo/v1.9 tests/argo/v1.10 tests/argo/baseline tests/e2e/tools; do
      (cd "$mod" && go mod download) || echo "go mod download in $mod failed" >&2
    done
  ) >"$log" 2>&1 &
  echo $!
}

# deps_cargo_fuzz : cargo-fuzz, and the toolchain to run it with. Sets
# FUZZ_TOOLCHAIN: "+nightly" when a nightly toolchain is installed; otherwise
# stable with RUSTC_BOOTSTRAP=1 (stable ships the sanitizer runtimes, and
# cargo-fuzz only needs the -Z flags it passes).
deps_cargo_fuzz() {
  if cargo +nightly --version >/dev/null 2>&1; then
    FUZZ_TOOLCHAIN=+nightly
  else
    echo "  no nightly toolchain: fuzzing on stable with RUSTC_BOOTSTRAP=1" >&2
    FUZZ_TOOLCHAIN=+stable
    export RUSTC_BOOTSTRAP=1
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked --quiet
  fi
}
