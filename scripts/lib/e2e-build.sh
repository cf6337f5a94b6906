# shellcheck shell=bash
# e2e-build.sh: build the real parts of the e2e pipeline once, cached under
# target/e2e/ (sourced by scripts/e2e).
#
#   e2e_build_all            # sets E2E_OTELCOL_BIN, E2E_HOTROD_BIN, E2E_JAEGER_BIN
#
# What it builds, all through the Go module proxy (never from a copied source tree):
#   - ocb, the OpenTelemetry Collector Builder (go.opentelemetry.io/collector/cmd/builder);
#   - the collector ocb assembles from tests/e2e/otelcol-builder.yaml: exactly
#     the components plugin-config/otel-collector-config.yaml names;
#   - HotROD and the `jaeger` binary of github.com/jaegertracing/jaeger v1.76.0,
#     as tools of the Go module tests/e2e/tools (go.mod pins the version, go.sum
#     the hashes; `go install ...@v1.76.0` refuses that module because its go.mod
#     has a replace directive).
#
# Each binary's name carries a key: a hash of everything that decides its
# contents (the manifest or go.mod/go.sum, and `go version`), so a changed pin
# rebuilds and an unchanged one costs nothing. A file lock lets parallel runs
# (a test and the demo) share one build. Cold build times are printed and kept
# in target/e2e/build-times.log.
#
# Settings (environment):
#   E2E_CACHE      where binaries and build logs go (default: <repo>/target/e2e)
#   E2E_GO         the go command (default: /usr/local/go/bin/go if present, else go on PATH); Go >= 1.24
#   E2E_JAEGER=1   also build the jaeger binary (off by default: its cold build is the
#                  slowest part; tests/e2e/README.md has the figures)

E2E_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
E2E_CACHE=${E2E_CACHE:-$E2E_REPO/target/e2e}
# The collector release the manifest pins (core v0.165.0 goes with contrib v0.165.1).
E2E_OCB_VERSION=v0.165.0
# The HotROD release the seed rolls out (jaegertracing/example-hotrod:1.76.0).
E2E_JAEGER_MODULE_VERSION=v1.76.0

e2e_build_log() { printf 'e2e-build: %s\n' "$*" >&2; }

# The go command used for every e2e build (see E2E_GO above).
if [[ -n ${E2E_GO:-} ]]; then
    E2E_GO_CMD=$E2E_GO
elif [[ -x /usr/local/go/bin/go ]]; then
    E2E_GO_CMD=/usr/local/go/bin/go
else
    E2E_GO_CMD=go
fi

# e2e_go ARGS...: run that go command (VCS stamping off: target/ may not be a checkout).
e2e_go() { GOFLAGS=${GOFLAGS:--buildvcs=false} "$E2E_GO_CMD" "$@"; }

# e2e_check_go: fail clearly when Go is missing or older than 1.24.
e2e_check_go() {
    local v
    if ! v=$(e2e_go env GOVERSION 2>/dev/null); then
        e2e_build_log "Go not found: the e2e pipeline builds the collector and HotROD with Go >= 1.24 (set E2E_GO)"
        return 1
    fi
    if [[ ! $v =~ ^go1\.([0-9]+) ]] || ((BASH_REMATCH[1] < 24)); then
        e2e_build_log "Go $v is too old: the collector v0.165 and HotROD v1.76.0 need Go >= 1.24 (set E2E_GO)"
        return 1
    fi
}

# e2e_key FILE...: a 12-hex-digit key over the files and the Go version.
e2e_key() {
    { cat "$@"; e2e_go env GOVERSION; } | sha256sum | cut -c1-12
}

# e2e_timed LABEL CMD...: run CMD, log and record its wall time.
e2e_timed() {
    local label=$1 start=$SECONDS rc=0
    shift
    "$@" || rc=$?
    local took=$((SECONDS - start))
    e2e_build_log "$label: ${took}s (exit $rc)"
    printf '%s\t%s\t%ss\texit %s\n' "$(date -u +%FT%TZ)" "$label" "$took" "$rc" >>"$E2E_CACHE/build-times.log"
    return "$rc"
}

# e2e_quiet LOG CMD...: run CMD with its output in LOG.
e2e_quiet() {
    local log=$1
    shift
    "$@" >"$log" 2>&1
}

# e2e_build_ocb: the builder binary, keyed on its version.
e2e_build_ocb() {
    E2E_OCB_BIN="$E2E_CACHE/bin/ocb-$E2E_OCB_VERSION"
    [[ -x $E2E_OCB_BIN ]] && return 0
    local tmp
    tmp=$(mktemp -d "$E2E_CACHE/ocb.XXXXXX")
    GOBIN=$tmp e2e_timed "go install builder@$E2E_OCB_VERSION" \
        e2e_go install "go.opentelemetry.io/collector/cmd/builder@$E2E_OCB_VERSION" ||
        { rm -rf "$tmp"; return 1; }
    mv "$tmp/builder" "$E2E_OCB_BIN"
    rm -rf "$tmp"
}

# e2e_build_collector: the ocb-assembled collector, keyed on the manifest.
e2e_build_collector() {
    local manifest="$E2E_REPO/tests/e2e/otelcol-builder.yaml" key
    key=$(e2e_key "$manifest")
    E2E_OTELCOL_BIN="$E2E_CACHE/bin/otelcol-canary-gate-$key"
    [[ -x $E2E_OTELCOL_BIN ]] && return 0
    e2e_build_ocb || return 1
    local out="$E2E_CACHE/build/otelcol-$key"
    rm -rf "$out"
    mkdir -p "$out"
    sed "s#@OUTPUT_PATH@#$out#" "$manifest" >"$out.yaml"
    # ocb runs `go` from PATH: put the chosen toolchain first.
    local gobin
    gobin="$(e2e_go env GOROOT)/bin"
    PATH="$gobin:$PATH" GOFLAGS=${GOFLAGS:--buildvcs=false} e2e_timed "ocb: collector (key $key)" \
        e2e_quiet "$out.log" "$E2E_OCB_BIN" --config "$out.yaml" ||
        { tail -n 30 "$out.log" >&2; return 1; }
    mv "$out/otelcol-canary-gate" "$E2E_OTELCOL_BIN"
    e2e_prune "$E2E_OTELCOL_BIN"
}

# e2e_prune BIN: remove the binaries of the same name built for other keys.
e2e_prune() {
    local stale
    for stale in "${1%-*}"-*; do
        [[ $stale == "$1" || $stale == *.tmp ]] || rm -f "$stale"
    done
}

# e2e_build_tool NAME PACKAGE: one tool of tests/e2e/tools, keyed on go.mod/go.sum.
e2e_build_tool() {
    local name=$1 pkg=$2 dir="$E2E_REPO/tests/e2e/tools" key
    key=$(e2e_key "$dir/go.mod" "$dir/go.sum")
    local bin="$E2E_CACHE/bin/$name-$E2E_JAEGER_MODULE_VERSION-$key"
    if [[ ! -x $bin ]]; then
        (cd "$dir" && e2e_timed "go build $pkg (key $key)" e2e_go build -o "$bin.tmp" "$pkg") ||
            { rm -f "$bin.tmp"; return 1; }
        mv "$bin.tmp" "$bin"
        e2e_prune "$bin"
    fi
    printf '%s' "$bin"
}

# e2e_build_all: everything the pipeline runs; prints the binaries and sizes.
e2e_build_all() {
    mkdir -p "$E2E_CACHE/bin" "$E2E_CACHE/build"
    e2e_check_go || return 1
    local lock="$E2E_CACHE/build.lock"
    exec {E2E_LOCK_FD}>"$lock"
    flock "$E2E_LOCK_FD"
    local rc=0
    {
        e2e_build_collector &&
            E2E_HOTROD_BIN=$(e2e_build_tool hotrod github.com/jaegertracing/jaeger/examples/hotrod) &&
            if [[ ${E2E_JAEGER:-0} == 1 ]]; then
                E2E_JAEGER_BIN=$(e2e_build_tool jaeger github.com/jaegertracing/jaeger/cmd/jaeger)
            else
                E2E_JAEGER_BIN=""
            fi
    } || rc=$?
    flock -u "$E2E_LOCK_FD"
    exec {E2E_LOCK_FD}>&-
    ((rc == 0)) || return "$rc"
    export E2E_OTELCOL_BIN E2E_HOTROD_BIN E2E_JAEGER_BIN
    local b
    for b in "$E2E_OTELCOL_BIN" "$E2E_HOTROD_BIN" ${E2E_JAEGER_BIN:+"$E2E_JAEGER_BIN"}; do
        e2e_build_log "$(du -h "$b" | cut -f1) $b"
    done
}
