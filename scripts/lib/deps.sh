# shellcheck shell=bash
# Installs what canary-gate's scripts need, only when it is missing.
# Sourced by scripts/test and scripts/demo; safe to run repeatedly.

# Debian packages the tests need: the Go go-plugin host (net/rpc and gRPC
# peers), the expr engine for the differential condition test, protoc for the
# Go gRPC stubs, and a real Prometheus.
# go-plugin-dev does not declare its grpc dependency, and grpc-dev accepts
# either golang/protobuf 1.3 or 1.5: name 1.3 explicitly (the version
# go-plugin 1.0.1's runtime matches; the gRPC test builds protoc-gen-go from it).
CANARY_GATE_TEST_PACKAGES=(
  golang-go
  golang-github-hashicorp-go-plugin-dev
  golang-google-grpc-dev
  golang-github-golang-protobuf-1-3-dev
  golang-github-antonmedv-expr-dev
  protobuf-compiler
  prometheus
  curl
)

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

# deps_cargo_fuzz : the nightly toolchain's cargo-fuzz, for the fuzz smoke run.
deps_cargo_fuzz() {
  if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "==> the nightly toolchain is missing: rustup toolchain install nightly" >&2
    rustup toolchain install nightly --profile minimal >&2
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked --quiet
  fi
}
