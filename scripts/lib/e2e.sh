# shellcheck shell=bash
# e2e.sh: the seed's real pipeline on loopback (sourced by scripts/e2e).
#
#   HotROD 1.76.0 ──OTLP/HTTP──▶ OpenTelemetry Collector ──otlp──▶ Jaeger
#   (one process per pod)        (plugin-config/otel-collector-config.yaml,
#                                 spanmetrics → prometheus exporter)
#                                        ▲ scrape            ▲ scrape HotROD /metrics
#                                        └──── Prometheus ───┘
#
#   e2e_start                  # builds (cached), starts everything, exports the URLs
#   e2e_wait_data              # until every instance with traffic has rates in Prometheus
#   e2e_stop_collector         # the "collector stopped" fault; waits until Prometheus sees it
#   e2e_wait_collector_gone    # then until its last samples have left the 2m rate window
#   e2e_stop_traffic NAME      # the "no traffic" fault, at run time
#   e2e_stop                   # stops everything started here (also the EXIT/INT/TERM trap)
#
# Instances (E2E_INSTANCES, "NAME:MODE" words; default "stable:healthy canary:healthy"):
#   healthy    traffic loop, HotROD as shipped
#   slow       traffic loop, HotROD -D / --fix-db-query-delay=$E2E_SLOW_DB_DELAY (default 2s;
#              shipped 300ms): the customer service's SQL SELECT and every span above it
#   erroring   traffic loop, every $E2E_ERROR_EVERY-th dispatch (default 2nd) names a customer
#              HotROD does not know: its DB returns "invalid customer ID", /customer and
#              /dispatch answer 500, and their SERVER spans end with status Error
#   idle       HotROD runs (and is scraped) but gets no traffic loop
# Each instance gets the resource attributes plugin-config/rollout.yaml sets
# (OTEL_RESOURCE_ATTRIBUTES, read from that file), a pod-template hash from
# E2E_HASH_<NAME> (fixed defaults below), and namespace $E2E_NAMESPACE.
#
# Prometheus scrapes like the prometheus-community chart's `kubernetes-pods`
# job does for an annotated pod (honor_labels, labels namespace, pod, and the
# pod's labels): the collector as namespace "otel", and each HotROD on the port
# plugin-config/rollout.yaml annotates, every $E2E_SCRAPE_INTERVAL (default 15s).
#
# After e2e_start: PROM_URL, E2E_DIR, E2E_NAMESPACE, E2E_HASH_<NAME>,
# E2E_FRONTEND_<NAME>, E2E_JAEGER_UI, E2E_COLLECTOR_METRICS_URL, and
# $E2E_DIR/env holding the same as KEY=VALUE lines.
#
# Settings: E2E_JAEGER=1 (build and run Jaeger as the traces' target; by
# default a second collector with the debug exporter stands in for it),
# E2E_TRAFFIC_PAUSE (seconds between dispatches per instance, default 0.5),
# E2E_TRAFFIC_MAX_SECONDS (each loop stops by itself after this, default 3600),
# E2E_KEEP=1 (keep $E2E_DIR). Only processes started here are stopped, by PID.

# shellcheck source=scripts/lib/e2e-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e-build.sh"
# shellcheck source=scripts/lib/promenv.sh
source "$(dirname "${BASH_SOURCE[0]}")/promenv.sh" # promenv_free_port, promenv_wait_http, promenv_kill

E2E_NAMESPACE=${E2E_NAMESPACE:-hotrod}
E2E_SCRAPE_INTERVAL=${E2E_SCRAPE_INTERVAL:-15s}
E2E_SLOW_DB_DELAY=${E2E_SLOW_DB_DELAY:-2s}
E2E_ERROR_EVERY=${E2E_ERROR_EVERY:-2}
# Customer ids HotROD's customer DB knows (services/customer/database.go), and one it does not.
E2E_CUSTOMERS=(123 392 731 567)
E2E_UNKNOWN_CUSTOMER=999
# Pod-template hashes, Argo-style, fixed so the recorded fixtures are stable.
: "${E2E_HASH_STABLE:=5d8f7b9c64}" "${E2E_HASH_CANARY:=7c6d9b8f45}" "${E2E_HASH_HEALTHY:=6f9c8d7b54}"
: "${E2E_HASH_SLOW:=8b7f6c5d94}" "${E2E_HASH_ERRORING:=9d6b5f8c47}" "${E2E_HASH_IDLE:=4c9f7d6b85}"
# A hash no pod has (the "absent canary" rows).
: "${E2E_HASH_ABSENT:=2c8d6f9b70}"
# The collector's pod as the kubernetes-pods job labels it.
E2E_COLLECTOR_POD=collector-e2e00

E2E_DIR=""
E2E_PORTS_GIVEN=" " # every port e2e_ports handed out, so no two components get the same one
E2E_PIDS=()        # every process started here, in start order
declare -A E2E_PID # role → pid (collector, prometheus, jaeger, hotrod-NAME, traffic-NAME)

e2e_log() { printf 'e2e: %s\n' "$*" >&2; }

# e2e_upper NAME: the env-var form of an instance name.
e2e_upper() { tr 'a-z-' 'A-Z_' <<<"$1"; }

# e2e_ports VAR...: set each VAR to a free loopback port, all distinct
# (promenv_free_port alone may return a port twice, since nothing binds it in between).
e2e_ports() {
    # Names unlikely to be the caller's: printf -v would set our local instead.
    local _e2e_var _e2e_port
    for _e2e_var in "$@"; do
        while :; do
            _e2e_port=$(promenv_free_port) || return 1
            [[ $E2E_PORTS_GIVEN == *" $_e2e_port "* ]] || break
        done
        E2E_PORTS_GIVEN+="$_e2e_port "
        printf -v "$_e2e_var" '%s' "$_e2e_port"
    done
}

# e2e_spawn ROLE LOG CMD...: start CMD in the background, remember its PID.
e2e_spawn() {
    local role=$1 log=$2
    shift 2
    "$@" >"$log" 2>&1 &
    E2E_PID[$role]=$!
    E2E_PIDS+=("$!")
}

# e2e_alive ROLE: the process is still running.
e2e_alive() { [[ -n ${E2E_PID[$1]:-} ]] && kill -0 "${E2E_PID[$1]}" 2>/dev/null; }

# e2e_kill ROLE: stop that process (TERM, then KILL after 5 s).
e2e_kill() {
    [[ -n ${E2E_PID[$1]:-} ]] || return 0
    promenv_kill "${E2E_PID[$1]}"
    unset "E2E_PID[$1]"
}

# e2e_wait_listen SECONDS PORT...: until something listens on every PORT (no request sent).
e2e_wait_listen() {
    local limit=$1 i p ok
    shift
    for i in $(seq 1 $((limit * 5))); do
        ok=1
        for p in "$@"; do
            ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { ok=0; break; }
        done
        ((ok)) && return 0
        sleep 0.2
    done
    return 1
}

# e2e_shipped_collector_config OUT: the collector config inside the shipped
# ConfigMap (data."collector-config.yaml", a literal block indented 4 spaces), verbatim.
e2e_shipped_collector_config() {
    awk '
        /^  collector-config\.yaml: \|[[:space:]]*$/ { inblock = 1; next }
        inblock && /^    / { print substr($0, 5); next }
        inblock && /^[[:space:]]*$/ { print ""; next }
        inblock { exit }
    ' "$E2E_REPO/plugin-config/otel-collector-config.yaml" >"$1"
    [[ -s $1 ]] || { e2e_log "no collector-config.yaml block in plugin-config/otel-collector-config.yaml"; return 1; }
}

# e2e_rollout_resource_attributes NAMESPACE POD HASH: OTEL_RESOURCE_ATTRIBUTES as
# plugin-config/rollout.yaml sets it, with the downward-API values filled in.
e2e_rollout_resource_attributes() {
    local template
    template=$(awk '/name: OTEL_RESOURCE_ATTRIBUTES/ { getline; sub(/^[[:space:]]*value:[[:space:]]*/, ""); gsub(/"/, ""); print; exit }' \
        "$E2E_REPO/plugin-config/rollout.yaml")
    [[ -n $template ]] || { e2e_log "no OTEL_RESOURCE_ATTRIBUTES in plugin-config/rollout.yaml"; return 1; }
    # shellcheck disable=SC2016 # Reason: the literal Kubernetes $(VAR) references of the manifest.
    template=${template//'$(POD_NAMESPACE)'/$1}
    # shellcheck disable=SC2016
    template=${template//'$(POD_NAME)'/$2}
    # shellcheck disable=SC2016
    printf '%s' "${template//'$(POD_HASH)'/$3}"
}

# e2e_rollout_scrape_port: the prometheus.io/port annotation of plugin-config/rollout.yaml.
e2e_rollout_scrape_port() {
    sed -n 's/^[[:space:]]*prometheus\.io\/port:[[:space:]]*"\{0,1\}\([0-9]*\)"\{0,1\}[[:space:]]*$/\1/p' \
        "$E2E_REPO/plugin-config/rollout.yaml" | head -n 1
}

# e2e_start_jaeger: Jaeger v2 (in-memory storage) on free ports; sets E2E_JAEGER_OTLP_GRPC_PORT.
e2e_start_jaeger() {
    local attempt
    for attempt in 1 2 3; do
        e2e_ports E2E_JAEGER_OTLP_GRPC_PORT E2E_JAEGER_UI_PORT E2E_JAEGER_QUERY_GRPC_PORT \
            E2E_JAEGER_HEALTH_PORT E2E_JAEGER_SELF_METRICS_PORT || return 1
        # tests/e2e/jaeger.yaml reads them (${env:...}).
        export E2E_JAEGER_OTLP_GRPC_PORT E2E_JAEGER_UI_PORT E2E_JAEGER_QUERY_GRPC_PORT \
            E2E_JAEGER_HEALTH_PORT E2E_JAEGER_SELF_METRICS_PORT
        e2e_spawn jaeger "$E2E_DIR/jaeger.log" "$E2E_JAEGER_BIN" --config "$E2E_REPO/tests/e2e/jaeger.yaml"
        if promenv_wait_http "http://127.0.0.1:$E2E_JAEGER_HEALTH_PORT/status" 30 2>/dev/null; then
            E2E_JAEGER_UI="http://127.0.0.1:$E2E_JAEGER_UI_PORT"
            return 0
        fi
        e2e_log "jaeger attempt $attempt failed: $(tail -n 3 "$E2E_DIR/jaeger.log")"
        e2e_kill jaeger
    done
    return 1
}

# e2e_start_trace_sink: without Jaeger, something must accept the otlp
# exporter's traces (tests/e2e/trace-sink.yaml says why); sets E2E_JAEGER_OTLP_GRPC_PORT.
e2e_start_trace_sink() {
    local attempt
    for attempt in 1 2 3; do
        e2e_ports E2E_JAEGER_OTLP_GRPC_PORT || return 1
        export E2E_JAEGER_OTLP_GRPC_PORT # tests/e2e/trace-sink.yaml and collector-overlay.yaml read it
        e2e_spawn trace-sink "$E2E_DIR/trace-sink.log" "$E2E_OTELCOL_BIN" --config "$E2E_REPO/tests/e2e/trace-sink.yaml"
        e2e_wait_listen 20 "$E2E_JAEGER_OTLP_GRPC_PORT" && e2e_alive trace-sink && return 0
        e2e_log "trace sink attempt $attempt failed: $(tail -n 3 "$E2E_DIR/trace-sink.log")"
        e2e_kill trace-sink
    done
    return 1
}

# e2e_start_collector: the shipped config + the loopback overlay.
e2e_start_collector() {
    mkdir -p "$E2E_DIR/collector"
    e2e_shipped_collector_config "$E2E_DIR/collector/shipped.yaml" || return 1
    local attempt
    for attempt in 1 2 3; do
        e2e_ports E2E_OTLP_HTTP_PORT E2E_PROM_EXPORTER_PORT E2E_HEALTH_PORT E2E_SELF_METRICS_PORT || return 1
        # tests/e2e/collector-overlay.yaml reads them (${env:...}).
        export E2E_OTLP_HTTP_PORT E2E_PROM_EXPORTER_PORT E2E_HEALTH_PORT E2E_SELF_METRICS_PORT
        e2e_spawn collector "$E2E_DIR/collector/collector.log" "$E2E_OTELCOL_BIN" \
            --config "$E2E_DIR/collector/shipped.yaml" \
            --config "$E2E_REPO/tests/e2e/collector-overlay.yaml"
        if promenv_wait_http "http://127.0.0.1:$E2E_HEALTH_PORT/" 30 2>/dev/null; then
            E2E_COLLECTOR_METRICS_URL="http://127.0.0.1:$E2E_PROM_EXPORTER_PORT/metrics"
            return 0
        fi
        e2e_log "collector attempt $attempt failed: $(grep -m 3 -iE 'error|fatal' "$E2E_DIR/collector/collector.log")"
        e2e_kill collector
    done
    return 1
}

# e2e_start_hotrod NAME MODE: one HotROD pod (`all`: frontend, customer, driver,
# route in one process, as the Rollout runs it) on four free loopback ports.
e2e_start_hotrod() {
    local name=$1 mode=$2 up hash pod attrs
    up=$(e2e_upper "$name")
    local hash_var="E2E_HASH_$up"
    hash=${!hash_var:-}
    [[ -n $hash ]] || { e2e_log "no pod-template hash for instance '$name' (set $hash_var)"; return 1; }
    pod="hotrod-$hash-$(printf '%s' "$name" | sha256sum | cut -c1-5)"
    attrs=$(e2e_rollout_resource_attributes "$E2E_NAMESPACE" "$pod" "$hash") || return 1
    local flags=()
    [[ $mode == slow ]] && flags+=("--fix-db-query-delay=$E2E_SLOW_DB_DELAY")
    local attempt f c d r
    for attempt in 1 2 3; do
        e2e_ports f c d r || return 1
        e2e_spawn "hotrod-$name" "$E2E_DIR/hotrod-$name.log" env \
            OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$E2E_OTLP_HTTP_PORT" \
            OTEL_RESOURCE_ATTRIBUTES="$attrs" \
            "$E2E_HOTROD_BIN" all \
            --frontend-service-hostname 127.0.0.1 --customer-service-hostname 127.0.0.1 \
            --driver-service-hostname 127.0.0.1 --route-service-hostname 127.0.0.1 \
            -f "$f" -c "$c" -d "$d" -r "$r" "${flags[@]}"
        # Ready when all four listen; no HTTP probe, which would add spans to an idle pod.
        if e2e_wait_listen 20 "$f" "$c" "$d" "$r"; then
            # HotROD's ports in the container (cmd/flags.go defaults) → ours, for the scrape annotation.
            printf -v "E2E_FRONTEND_$up" 'http://127.0.0.1:%s' "$f"
            printf -v "E2E_POD_$up" '%s' "$pod"
            printf -v "E2E_PORTMAP_$up" '8080=%s 8081=%s 8082=%s 8083=%s' "$f" "$c" "$d" "$r"
            export "E2E_FRONTEND_$up" "E2E_HASH_$up" "E2E_POD_$up"
            return 0
        fi
        e2e_log "hotrod $name attempt $attempt failed: $(tail -n 3 "$E2E_DIR/hotrod-$name.log")"
        e2e_kill "hotrod-$name"
    done
    return 1
}

# e2e_traffic_loop FRONTEND_URL MODE: sequential /dispatch requests, as HotROD's
# UI sends them; bounded in time, stops by itself.
e2e_traffic_loop() {
    local url=$1 mode=$2 n=0 customer deadline=$((SECONDS + ${E2E_TRAFFIC_MAX_SECONDS:-3600}))
    while ((SECONDS < deadline)); do
        n=$((n + 1))
        customer=${E2E_CUSTOMERS[n % ${#E2E_CUSTOMERS[@]}]}
        if [[ $mode == erroring ]] && ((n % E2E_ERROR_EVERY == 0)); then
            customer=$E2E_UNKNOWN_CUSTOMER
        fi
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 30 \
            "$url/dispatch?customer=$customer&nonse=0.$n" || true
        sleep "${E2E_TRAFFIC_PAUSE:-0.5}"
    done
}

# e2e_start_traffic NAME MODE
e2e_start_traffic() {
    local name=$1 mode=$2 var
    var="E2E_FRONTEND_$(e2e_upper "$name")"
    e2e_spawn "traffic-$name" "$E2E_DIR/traffic-$name.log" e2e_traffic_loop "${!var}" "$mode"
}

# e2e_stop_traffic NAME: the "no traffic" fault.
e2e_stop_traffic() { e2e_kill "traffic-$1"; }

# e2e_prometheus_config OUT: the kubernetes-pods job, as static targets.
e2e_prometheus_config() {
    local out=$1 spec name up scrape_port portmap var target
    scrape_port=$(e2e_rollout_scrape_port)
    [[ -n $scrape_port ]] || { e2e_log "no prometheus.io/port annotation in plugin-config/rollout.yaml"; return 1; }
    {
        cat <<YAML
# Written by scripts/lib/e2e.sh. One job, as the prometheus-community chart's
# kubernetes-pods job labels annotated pods (honor_labels: true; namespace, pod,
# and every pod label through labelmap __meta_kubernetes_pod_label_(.+)).
global:
  scrape_interval: $E2E_SCRAPE_INTERVAL
  scrape_timeout: 5s
  evaluation_interval: $E2E_SCRAPE_INTERVAL
scrape_configs:
  - job_name: kubernetes-pods
    honor_labels: true
    static_configs:
      # The collector DaemonSet's pod (annotated prometheus.io/port: "8889").
      - targets: ["127.0.0.1:$E2E_PROM_EXPORTER_PORT"]
        labels: {namespace: otel, pod: $E2E_COLLECTOR_POD, app: collector}
YAML
        for spec in "${E2E_INSTANCES[@]}"; do
            name=${spec%%:*}
            up=$(e2e_upper "$name")
            var="E2E_PORTMAP_$up"
            portmap=${!var}
            target=$(tr ' ' '\n' <<<"$portmap" | sed -n "s/^$scrape_port=//p")
            [[ -n $target ]] || { e2e_log "rollout.yaml scrapes port $scrape_port, which HotROD does not use"; return 1; }
            printf '      # HotROD %s: rollout.yaml annotates prometheus.io/port "%s".\n' "$name" "$scrape_port"
            printf '      - targets: ["127.0.0.1:%s"]\n' "$target"
            var="E2E_HASH_$up"
            local hash=${!var}
            var="E2E_POD_$up"
            printf '        labels: {namespace: %s, pod: %s, app: hotrod, rollouts_pod_template_hash: "%s"}\n' \
                "$E2E_NAMESPACE" "${!var}" "$hash"
        done
    } >"$out"
}

# e2e_start_prometheus
e2e_start_prometheus() {
    local prom_bin attempt port
    prom_bin=$(command -v prometheus || echo /usr/bin/prometheus)
    e2e_prometheus_config "$E2E_DIR/prometheus.yml" || return 1
    for attempt in 1 2 3; do
        e2e_ports port || return 1
        e2e_spawn prometheus "$E2E_DIR/prometheus.log" "$prom_bin" \
            --config.file="$E2E_DIR/prometheus.yml" \
            --storage.tsdb.path="$E2E_DIR/prometheus-data" \
            --storage.tsdb.retention.time=2h \
            --web.listen-address="127.0.0.1:$port" \
            --log.level=warn
        PROM_URL="http://127.0.0.1:$port"
        if promenv_wait_http "$PROM_URL/-/ready" 20 2>/dev/null; then
            export PROM_URL
            return 0
        fi
        e2e_log "prometheus attempt $attempt failed: $(tail -n 3 "$E2E_DIR/prometheus.log")"
        e2e_kill prometheus
    done
    return 1
}

# e2e_query PROMQL: the first sample's value of an instant query ("" when empty).
e2e_query() {
    curl -fsS --max-time 5 --data-urlencode "query=$1" "$PROM_URL/api/v1/query" 2>/dev/null |
        jq -r '.data.result[0].value[1] // ""' 2>/dev/null
}

# e2e_positive VALUE: VALUE is a number > 0.
e2e_positive() { [[ -n $1 ]] && awk -v v="$1" 'BEGIN { exit !(v + 0 > 0) }'; }

# e2e_wait_data [LIMIT]: until Prometheus has rates for every instance with
# traffic (spanmetrics calls and duration, and HotROD's own counter). The
# connector flushes every 60 s and reports a new series' first calls value as
# 0, so this takes two flushes: about 2 minutes after the collector started.
e2e_wait_data() {
    local limit=${1:-300} start=$SECONDS spec name mode hash var missing
    while ((SECONDS - start < limit)); do
        missing=""
        for spec in "${E2E_INSTANCES[@]}"; do
            name=${spec%%:*} mode=${spec#*:}
            [[ $mode == idle ]] && continue
            var="E2E_HASH_$(e2e_upper "$name")"
            hash=${!var}
            e2e_positive "$(e2e_query "sum(rate(traces_span_metrics_calls_total{hotrod_pod_hash=\"$hash\"}[2m]))")" &&
                e2e_positive "$(e2e_query "sum(rate(traces_span_metrics_duration_milliseconds_count{hotrod_pod_hash=\"$hash\"}[2m]))")" &&
                e2e_positive "$(e2e_query "sum(rate(hotrod_requests_total{rollouts_pod_template_hash=\"$hash\"}[2m]))")" ||
                missing+=" $name"
        done
        if [[ -z $missing ]]; then
            e2e_log "data for every instance with traffic after $((SECONDS - start))s"
            return 0
        fi
        for spec in collector prometheus; do
            e2e_alive "$spec" || { e2e_log "$spec exited: see $E2E_DIR"; return 1; }
        done
        sleep 5
    done
    e2e_log "no rates after ${limit}s for:$missing (logs in $E2E_DIR)"
    return 1
}

# e2e_stop_collector: the "collector stopped" fault; returns once Prometheus
# has failed a scrape of it (its series are then stale).
e2e_stop_collector() {
    e2e_kill collector
    local i
    for i in $(seq 1 60); do
        [[ $(e2e_query "up{pod=\"$E2E_COLLECTOR_POD\"}") == 0 ]] && { e2e_log "Prometheus sees the collector down"; return 0; }
        sleep 1
    done
    e2e_log "Prometheus still scrapes the collector 60 s after it stopped"
    return 1
}

# e2e_wait_collector_gone [LIMIT]: until the collector's last samples have left
# the 2m rate window (rate() over spanmetrics returns nothing any more).
e2e_wait_collector_gone() {
    local limit=${1:-240} start=$SECONDS
    while ((SECONDS - start < limit)); do
        if [[ -z $(e2e_query 'count(rate(traces_span_metrics_calls_total[2m]))') ]]; then
            e2e_log "the collector's samples left the 2m window after $((SECONDS - start))s"
            return 0
        fi
        sleep 5
    done
    e2e_log "rates over the collector's series still present ${limit}s after it stopped"
    return 1
}

# e2e_write_env: $E2E_DIR/env, for tests and other shells.
e2e_write_env() {
    local spec name up
    {
        printf 'PROM_URL=%s\nE2E_DIR=%s\nE2E_NAMESPACE=%s\n' "$PROM_URL" "$E2E_DIR" "$E2E_NAMESPACE"
        printf 'E2E_COLLECTOR_METRICS_URL=%s\nE2E_JAEGER_UI=%s\n' "$E2E_COLLECTOR_METRICS_URL" "${E2E_JAEGER_UI:-}"
        printf 'E2E_SCRAPE_INTERVAL=%s\nE2E_HASH_ABSENT=%s\n' "$E2E_SCRAPE_INTERVAL" "$E2E_HASH_ABSENT"
        for spec in "${E2E_INSTANCES[@]}"; do
            name=${spec%%:*}
            up=$(e2e_upper "$name")
            local h="E2E_HASH_$up" f="E2E_FRONTEND_$up"
            printf 'E2E_HASH_%s=%s\nE2E_FRONTEND_%s=%s\nE2E_MODE_%s=%s\n' "$up" "${!h}" "$up" "${!f}" "$up" "${spec#*:}"
        done
    } >"$E2E_DIR/env"
}

# e2e_summary: where everything is.
e2e_summary() {
    local spec name up h f
    e2e_log "Prometheus     $PROM_URL   (PROM_URL)"
    [[ -n ${E2E_JAEGER_UI:-} ]] && e2e_log "Jaeger UI      $E2E_JAEGER_UI"
    e2e_log "collector      OTLP/HTTP http://127.0.0.1:$E2E_OTLP_HTTP_PORT, spanmetrics $E2E_COLLECTOR_METRICS_URL"
    for spec in "${E2E_INSTANCES[@]}"; do
        name=${spec%%:*}
        up=$(e2e_upper "$name")
        h="E2E_HASH_$up" f="E2E_FRONTEND_$up"
        e2e_log "$(printf 'hotrod %-8s %s  namespace %s  hash %s  mode %s' "$name" "${!f}" "$E2E_NAMESPACE" "${!h}" "${spec#*:}")"
    done
    e2e_log "logs, configs, env file: $E2E_DIR"
}

# e2e_start: build (cached) and start the pipeline; installs the cleanup trap.
e2e_start() {
    [[ ${#E2E_INSTANCES[@]} -gt 0 ]] || E2E_INSTANCES=(stable:healthy canary:healthy)
    local spec
    for spec in "${E2E_INSTANCES[@]}"; do
        case ${spec#*:} in
            healthy | slow | erroring | idle) ;;
            *) e2e_log "instance '$spec': mode must be healthy, slow, erroring or idle"; return 1 ;;
        esac
    done
    e2e_build_all || return 1
    E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/e2e.XXXXXX")
    export E2E_DIR E2E_NAMESPACE
    trap e2e_stop EXIT
    trap 'e2e_stop; exit 130' INT
    trap 'e2e_stop; exit 143' TERM
    if [[ -n ${E2E_JAEGER_BIN:-} ]]; then
        e2e_start_jaeger || return 1
    else
        e2e_start_trace_sink || return 1
    fi
    e2e_start_collector || return 1
    for spec in "${E2E_INSTANCES[@]}"; do
        e2e_start_hotrod "${spec%%:*}" "${spec#*:}" || return 1
    done
    e2e_start_prometheus || return 1
    for spec in "${E2E_INSTANCES[@]}"; do
        [[ ${spec#*:} == idle ]] || e2e_start_traffic "${spec%%:*}" "${spec#*:}"
    done
    e2e_write_env
    e2e_summary
}

# e2e_stop: stop every process started here (newest first) and remove E2E_DIR.
e2e_stop() {
    local i
    for ((i = ${#E2E_PIDS[@]} - 1; i >= 0; i--)); do
        promenv_kill "${E2E_PIDS[i]}"
    done
    E2E_PIDS=()
    E2E_PID=()
    if [[ -n $E2E_DIR && -d $E2E_DIR && ${E2E_KEEP:-0} != 1 ]]; then
        rm -rf "$E2E_DIR"
    fi
    E2E_DIR=""
}
