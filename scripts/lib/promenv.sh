# shellcheck shell=bash
# promenv.sh: start hotrod-sim and a real Prometheus (and, on request, a real
# VictoriaMetrics scraping the same simulator) on free loopback ports.
#
# Source it, then:
#   promenv_start [hotrod-sim args...]   # exports PROM_URL, SIM_URL, PROMENV_DIR (and VM_URL)
#   promenv_wait_data 35                 # until each backend holds >= 35 s of samples
#   ... curl "$PROM_URL/api/v1/query" ...
#   promenv_stop                         # also runs from the EXIT/INT/TERM trap
#
# Settings (environment):
#   PROMENV_SIM_BIN   hotrod-sim binary (default: <repo>/target/debug/hotrod-sim; `cargo build -p hotrod-sim`)
#   PROMENV_PROM_BIN  prometheus binary (default: prometheus on PATH, else /usr/bin/prometheus)
#   PROMENV_VM=1      also start VictoriaMetrics and export VM_URL (default: Prometheus only)
#   PROMENV_NATIVE=1  also start a Prometheus with native histograms on, export PROM_NATIVE_URL
#   PROMENV_VM_BIN    victoria-metrics binary (default: victoria-metrics on PATH, else /usr/bin/victoria-metrics)
#   PROMENV_NO_TRAP=1 do not install the cleanup trap (call promenv_stop yourself)
#   PROMENV_KEEP=1    keep the temp dir (logs, config, TSDB) after promenv_stop
#
# With PROMENV_NATIVE=1 a second Prometheus (PROM_NATIVE_URL) runs with
# --enable-feature=native-histograms: it asks for the protobuf exposition
# first and ingests the simulator's `otel-http-native` histograms as native
# ones. It is a second process, not a flag on the first, because in protobuf
# the classic histograms carry whole counts (Prometheus 2.42 reads their
# fractional `_float` fields as zero) and `le` reads "1.0" where text says "1":
# the first Prometheus keeps scraping text, exactly as before.
#
# The Prometheus config scrapes the simulator every second (job "hotrod-sim")
# and has one remote_read endpoint that always fails, only consulted for
# selectors carrying the label matcher warnings="remote-read": a query with
# such a selector gets real Prometheus `warnings` in its answer.
#
# VictoriaMetrics (single node, Debian's 1.79) scrapes the same target with
# the same job name and interval through its own -promscrape.config (no
# remote_read: it does not read remotely, and its strict config parser rejects
# sections it does not know). Its query defaults that differ from Prometheus:
#   - -search.latencyOffset (default 30s): an instant query for a time within
#     that offset of now is evaluated that far in the past, so a 10 s window
#     would see data 30 s old; 1s here (one scrape interval) keeps it
#     comparable with Prometheus, which answers with what it has.
#   - its response cache: -search.disableCache, so every answer is fresh.
#   - rate()/increase() do not extrapolate to the window's edges, and results
#     that are NaN (0/0) are dropped from the answer instead of returned as NaN.
#   - the lookback for instant selectors is derived from the sample interval
#     instead of Prometheus' fixed 5m.
#
# Only processes started here are stopped, by their PID; logs stay in
# PROMENV_DIR (sim.log, prometheus.log, victoria-metrics.log).

PROMENV_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PROMENV_SIM_PID=""
PROMENV_PROM_PID=""
PROMENV_VM_PID=""
PROMENV_NATIVE_PID=""
PROMENV_DIR=""

promenv_log() { printf 'promenv: %s\n' "$*" >&2; }

# promenv_free_port: print a TCP port nothing listens on right now.
promenv_free_port() {
    local port i
    for i in $(seq 1 50); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if ! ss -Htln "sport = :$port" 2>/dev/null | grep -q .; then
            echo "$port"
            return 0
        fi
    done
    promenv_log "no free port found"
    return 1
}

# promenv_wait_http URL SECONDS: until URL answers 2xx.
promenv_wait_http() {
    local url=$1 limit=$2 i
    for i in $(seq 1 $((limit * 5))); do
        if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    promenv_log "$url did not answer within ${limit}s"
    return 1
}

# promenv_start [hotrod-sim args...]: start both processes and export the URLs.
promenv_start() {
    local sim_bin=${PROMENV_SIM_BIN:-$PROMENV_REPO/target/debug/hotrod-sim}
    local prom_bin=${PROMENV_PROM_BIN:-$(command -v prometheus || echo /usr/bin/prometheus)}
    if [[ ! -x $sim_bin ]]; then
        promenv_log "simulator $sim_bin not found: run 'cargo build -p hotrod-sim' first"
        return 1
    fi
    if [[ ! -x $prom_bin ]]; then
        promenv_log "prometheus binary $prom_bin not found"
        return 1
    fi
    local vm_bin=""
    if [[ ${PROMENV_VM:-0} == 1 ]]; then
        vm_bin=${PROMENV_VM_BIN:-$(command -v victoria-metrics || echo /usr/bin/victoria-metrics)}
        if [[ ! -x $vm_bin ]]; then
            promenv_log "victoria-metrics binary $vm_bin not found (Debian: victoria-metrics)"
            return 1
        fi
    fi
    PROMENV_DIR=$(mktemp -d "${TMPDIR:-/tmp}/promenv.XXXXXX")
    export PROMENV_DIR
    if [[ ${PROMENV_NO_TRAP:-0} != 1 ]]; then
        trap promenv_stop EXIT
        trap 'promenv_stop; exit 130' INT
        trap 'promenv_stop; exit 143' TERM
    fi

    "$sim_bin" --listen 127.0.0.1:0 --port-file "$PROMENV_DIR/sim.port" "$@" \
        2>"$PROMENV_DIR/sim.log" &
    PROMENV_SIM_PID=$!
    local i
    for i in $(seq 1 50); do
        [[ -s $PROMENV_DIR/sim.port ]] && break
        if ! kill -0 "$PROMENV_SIM_PID" 2>/dev/null; then
            promenv_log "hotrod-sim exited: $(cat "$PROMENV_DIR/sim.log")"
            return 1
        fi
        sleep 0.1
    done
    local sim_port
    sim_port=$(tr -d '[:space:]' <"$PROMENV_DIR/sim.port")
    SIM_URL="http://127.0.0.1:$sim_port"
    export SIM_URL
    promenv_wait_http "$SIM_URL/metrics" 10 || return 1

    {
        promenv_scrape_config "$sim_port"
        cat <<YAML
remote_read:
  - name: always-failing
    url: "http://127.0.0.1:$sim_port/remote-read-fail"
    read_recent: true
    remote_timeout: 2s
    required_matchers:
      warnings: remote-read
YAML
    } >"$PROMENV_DIR/prometheus.yml"
    promenv_launch prometheus /-/ready PROMENV_PROM_PID PROM_URL \
        "$prom_bin" \
        --config.file="$PROMENV_DIR/prometheus.yml" \
        --storage.tsdb.path="$PROMENV_DIR/data" \
        --storage.tsdb.retention.time=2h \
        --web.listen-address="127.0.0.1:@PORT@" \
        --log.level=warn || return 1
    promenv_log "hotrod-sim $SIM_URL (pid $PROMENV_SIM_PID), prometheus $PROM_URL (pid $PROMENV_PROM_PID), dir $PROMENV_DIR"
    if [[ ${PROMENV_NATIVE:-0} == 1 ]]; then
        promenv_start_native "$prom_bin" "$sim_port" || return 1
    fi
    [[ -z $vm_bin ]] && return 0
    promenv_start_vm "$vm_bin" "$sim_port"
}

# promenv_scrape_config SIM_PORT: the scrape config every backend here uses:
# the simulator every second (no rules, so no evaluation_interval, which
# VictoriaMetrics' strict parser refuses).
promenv_scrape_config() {
    cat <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: hotrod-sim
    static_configs:
      - targets: ["127.0.0.1:$1"]
YAML
}

# promenv_launch NAME READY_PATH PID_VAR URL_VAR CMD...: start CMD in the
# background (every "@PORT@" in it replaced by a free port), its output in
# $PROMENV_DIR/NAME.log, until http://127.0.0.1:PORT/READY_PATH answers;
# three attempts, each on a new port. Sets (and exports) the variables named
# PID_VAR and URL_VAR; the PID is set while waiting, so promenv_stop can
# always reach the process.
promenv_launch() {
    local name=$1 ready=$2 attempt port
    local -n launched_pid=$3 launched_url=$4
    shift 4
    for attempt in 1 2 3; do
        port=$(promenv_free_port) || return 1
        "${@//@PORT@/$port}" >"$PROMENV_DIR/$name.log" 2>&1 &
        launched_pid=$!
        launched_url="http://127.0.0.1:$port"
        export "${!launched_url}"
        promenv_wait_http "$launched_url$ready" 20 && return 0
        promenv_log "$name attempt $attempt failed: $(tail -n 3 "$PROMENV_DIR/$name.log")"
        promenv_kill "$launched_pid"
        launched_pid=""
    done
    return 1
}

# promenv_start_native BIN SIM_PORT: a second Prometheus, native histograms
# on (see the header), scraping the simulator like the first; exports
# PROM_NATIVE_URL.
promenv_start_native() {
    local prom_bin=$1 sim_port=$2
    promenv_scrape_config "$sim_port" >"$PROMENV_DIR/prometheus-native.yml"
    promenv_launch prometheus-native /-/ready PROMENV_NATIVE_PID PROM_NATIVE_URL \
        "$prom_bin" \
        --config.file="$PROMENV_DIR/prometheus-native.yml" \
        --storage.tsdb.path="$PROMENV_DIR/data-native" \
        --storage.tsdb.retention.time=2h \
        --web.listen-address="127.0.0.1:@PORT@" \
        --log.level=warn \
        --enable-feature=native-histograms || return 1
    promenv_log "prometheus (native histograms) $PROM_NATIVE_URL (pid $PROMENV_NATIVE_PID)"
}

# promenv_start_vm BIN SIM_PORT: start VictoriaMetrics scraping the simulator
# like Prometheus does (see the header for its flags) and export VM_URL.
promenv_start_vm() {
    local vm_bin=$1 sim_port=$2
    promenv_scrape_config "$sim_port" >"$PROMENV_DIR/victoria-metrics.yml"
    promenv_launch victoria-metrics /health PROMENV_VM_PID VM_URL \
        "$vm_bin" \
        -promscrape.config="$PROMENV_DIR/victoria-metrics.yml" \
        -storageDataPath="$PROMENV_DIR/vmdata" \
        -retentionPeriod=1d \
        -httpListenAddr="127.0.0.1:@PORT@" \
        -search.latencyOffset=1s \
        -search.disableCache || return 1
    promenv_log "victoria-metrics $VM_URL (pid $PROMENV_VM_PID)"
}

# promenv_wait_data SECONDS [LIMIT]: until Prometheus (and the native one and
# VictoriaMetrics, when started) holds at least SECONDS worth of 1 s scrapes of the simulator
# (gives up after LIMIT s in all, default SECONDS+60).
promenv_wait_data() {
    local want=$1 limit=${2:-$(($1 + 60))} start=$SECONDS
    promenv_wait_backend Prometheus "$PROM_URL" "$want" "$limit" || return 1
    local left
    if [[ -n $PROMENV_NATIVE_PID ]]; then
        left=$((limit - (SECONDS - start)))
        ((left > 0)) || left=1
        promenv_wait_backend "Prometheus (native)" "$PROM_NATIVE_URL" "$want" "$left" || return 1
    fi
    [[ -n $PROMENV_VM_PID ]] || return 0
    left=$((limit - (SECONDS - start)))
    ((left > 0)) || left=1
    promenv_wait_backend VictoriaMetrics "$VM_URL" "$want" "$left"
}

# promenv_wait_backend NAME URL SECONDS LIMIT: until the Prometheus-API backend
# at URL counts SECONDS+1 scrapes of the simulator (`up` samples over the last hour).
promenv_wait_backend() {
    local name=$1 url=$2 want=$3 limit=$4 start=$SECONDS have
    while ((SECONDS - start < limit)); do
        have=$(curl -fsS --max-time 2 --data-urlencode 'query=count_over_time(up{job="hotrod-sim"}[1h])' \
            "$url/api/v1/query" 2>/dev/null | jq -r '.data.result[0].value[1] // 0' 2>/dev/null)
        if [[ ${have:-0} =~ ^[0-9]+$ ]] && ((have >= want + 1)); then
            return 0
        fi
        sleep 1
    done
    promenv_log "$name has ${have:-0} samples after ${limit}s, wanted $want s of data"
    return 1
}

# promenv_kill PID: TERM, wait up to 5 s, then KILL. Only for PIDs started here.
promenv_kill() {
    local pid=$1 i
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# promenv_stop: stop what promenv_start started and remove the temp dir.
promenv_stop() {
    promenv_kill "$PROMENV_VM_PID"
    PROMENV_VM_PID=""
    promenv_kill "$PROMENV_NATIVE_PID"
    PROMENV_NATIVE_PID=""
    promenv_kill "$PROMENV_PROM_PID"
    PROMENV_PROM_PID=""
    promenv_kill "$PROMENV_SIM_PID"
    PROMENV_SIM_PID=""
    if [[ -n $PROMENV_DIR && -d $PROMENV_DIR && ${PROMENV_KEEP:-0} != 1 ]]; then
        rm -rf "$PROMENV_DIR"
    fi
    PROMENV_DIR=""
}
