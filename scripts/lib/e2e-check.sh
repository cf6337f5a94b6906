# shellcheck shell=bash
# e2e-check.sh: the verdict table of `scripts/e2e check`, and the fixture
# recording of `scripts/e2e check --record` (sourced by scripts/e2e, after e2e.sh).
#
# The rows live in tests/e2e/verdicts.tsv (tab-separated):
#   scenario  canary  check  series  want_phase  want_reason  gap
# scenario is `running` (all canaries up) or `collector-stopped`; canary names
# an instance of the matrix (or `absent`: a hash no pod has); series names
# tests/e2e/series-<series>.json; gap is `-`, or the name of a known
# difference between what canary-gate says today and the right verdict (see
# tests/e2e/README.md): such a row is printed but does not fail the run.

E2E_VERDICTS="$E2E_REPO/tests/e2e/verdicts.tsv"
E2E_TABLE=""
E2E_MISMATCHES=0
E2E_GAPS=0

# e2e_check_rows BIN SCENARIO [RECORD_DIR]: run the scenario's rows.
e2e_check_rows() {
    local bin=$1 scenario=$2 record=${3:-}
    [[ -n $E2E_TABLE ]] || {
        E2E_TABLE="$E2E_DIR/verdicts.out.tsv"
        printf 'SCENARIO\tCANARY\tCHECK\tSERIES\tPHASE\tVALUE\tREASON\tOK\tMESSAGE\n' >"$E2E_TABLE"
    }
    local sc canary check series want_phase want_reason gap hash_var json phase value reason message ok
    while IFS=$'\t' read -r sc canary check series want_phase want_reason gap; do
        [[ -z $sc || $sc == \#* || $sc != "$scenario" ]] && continue
        hash_var="E2E_HASH_$(e2e_upper "$canary")"
        json=$("$bin" check --address "$PROM_URL" --check "$check" --namespace "$E2E_NAMESPACE" \
            --hash "${!hash_var}" --config "$E2E_REPO/tests/e2e/series-$series.json" --output json) || true
        [[ -n $json ]] || json='{"phase":"(no output)","value":"","reason":"","message":"","query":""}'
        IFS=$'\t' read -r phase value reason message < <(
            jq -r '[.phase, (if .value == "" then "-" else .value end), .reason, (.message | .[0:110])] | @tsv' <<<"$json"
        )
        if [[ $phase == "$want_phase" && ($want_reason == - || $reason == "$want_reason") ]]; then
            ok=yes
            [[ $gap != - ]] && ok="yes (gap $gap closed?)"
        elif [[ $gap != - ]]; then
            ok="GAP $gap (want $want_phase/$want_reason)"
            E2E_GAPS=$((E2E_GAPS + 1))
        else
            ok="NO (want $want_phase/$want_reason)"
            E2E_MISMATCHES=$((E2E_MISMATCHES + 1))
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$canary" "$check" "$series" \
            "$phase" "$value" "$reason" "$ok" "$message" >>"$E2E_TABLE"
        if [[ -n $record ]]; then
            local q base="$record/queries/$scenario-$canary-$check-$series"
            mkdir -p "$record/queries"
            jq -S 'del(.startedAt, .finishedAt, .prometheusLatencyMs, .metadata.prometheusLatencyMs)' <<<"$json" >"$base.check.json"
            q=$(jq -r '.query // ""' <<<"$json")
            [[ -n $q ]] && curl -fsS --max-time 10 --data-urlencode "query=$q" "$PROM_URL/api/v1/query" |
                jq -S . >"$base.prometheus.json"
        fi
    done <"$E2E_VERDICTS"
}

# e2e_check_report: print the table; exit 1 on a mismatch that is not a known gap.
e2e_check_report() {
    echo
    awk -F'\t' '{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NF }
        END { for (r = 1; r <= NR; r++) { line = ""; for (i = 1; i <= n; i++) line = line sprintf(i < n ? "%-" w[i] + 2 "s" : "%s", cell[r, i]); print line } }' \
        "$E2E_TABLE"
    echo
    local rows=$(($(wc -l <"$E2E_TABLE") - 1))
    if ((E2E_MISMATCHES > 0)); then
        echo "e2e: $E2E_MISMATCHES of $rows rows differ from the expected verdict" >&2
        exit 1
    fi
    echo "e2e: $rows rows as expected ($E2E_GAPS known gaps, see tests/e2e/README.md)"
}

# e2e_save URL FILE: one HTTP answer, status line first when it is not 200.
e2e_save() {
    local code
    code=$(curl -sS --max-time 10 -o "$2.body" -w '%{http_code}' "$1") || true
    if [[ $code == 200 ]]; then
        mv "$2.body" "$2"
    else
        { printf 'HTTP %s from %s\n' "$code" "${1/127.0.0.1:[0-9]*/127.0.0.1:PORT}"; cat "$2.body"; } >"$2"
        rm -f "$2.body"
    fi
}

# e2e_prom_api PATH [CURL-ARGS...]: a Prometheus API answer, pretty and sorted.
e2e_prom_api() {
    local path=$1
    shift
    curl -fsS --max-time 10 -G "$PROM_URL$path" "$@" | jq -S .
}

# e2e_record_running DIR: raw scrapes and Prometheus answers while all canaries run.
e2e_record_running() {
    local dir=$1 h=$E2E_HASH_HEALTHY
    # Everything but the hand-written README is re-recorded.
    find "$dir" -mindepth 1 -not -name README.md -delete 2>/dev/null || true
    mkdir -p "$dir/prometheus"
    e2e_save "$E2E_COLLECTOR_METRICS_URL" "$dir/collector-metrics.txt"
    local portmap route
    portmap=$E2E_PORTMAP_HEALTHY
    route=$(tr ' ' '\n' <<<"$portmap" | sed -n 's/^8083=//p')
    e2e_save "$E2E_FRONTEND_HEALTHY/metrics" "$dir/hotrod-frontend-metrics.txt"
    e2e_save "http://127.0.0.1:$route/metrics" "$dir/hotrod-route-8083-metrics.txt"
    cp "$E2E_DIR/prometheus.yml" "$dir/prometheus.yml"
    sed -E 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g' -i "$dir/prometheus.yml"
    e2e_prom_api /api/v1/label/__name__/values >"$dir/prometheus/names.json"
    e2e_prom_api /api/v1/metadata >"$dir/prometheus/metadata.json"
    e2e_prom_api /api/v1/series --data-urlencode "match[]=traces_span_metrics_calls_total{hotrod_pod_hash=\"$h\"}" \
        >"$dir/prometheus/series-calls-healthy.json"
    e2e_prom_api /api/v1/series --data-urlencode "match[]=traces_span_metrics_duration_milliseconds_bucket{hotrod_pod_hash=\"$h\",span_name=\"/dispatch\"}" \
        >"$dir/prometheus/series-duration-bucket-healthy-dispatch.json"
    e2e_prom_api /api/v1/series --data-urlencode "match[]=hotrod_requests_total{rollouts_pod_template_hash=\"$h\"}" \
        >"$dir/prometheus/series-hotrod-requests-healthy.json"
    e2e_prom_api /api/v1/query --data-urlencode 'query=up' >"$dir/prometheus/up.json"
    e2e_prom_api /api/v1/query --data-urlencode \
        'query=count by (status_code, span_kind) (traces_span_metrics_calls_total)' >"$dir/prometheus/status-by-kind.json"
    # Per canary: SERVER calls, errors and p95 of the frontend's /dispatch (what a preset should read).
    local name hash_var
    for name in healthy slow erroring idle; do
        hash_var="E2E_HASH_$(e2e_upper "$name")"
        e2e_prom_api /api/v1/query --data-urlencode \
            "query=sum by (service_name, span_name, status_code) (rate(traces_span_metrics_calls_total{hotrod_pod_hash=\"${!hash_var}\",span_kind=\"SPAN_KIND_SERVER\"}[2m]))" \
            >"$dir/prometheus/server-calls-$name.json"
        e2e_prom_api /api/v1/query --data-urlencode \
            "query=histogram_quantile(0.95, sum by (le) (rate(traces_span_metrics_duration_milliseconds_bucket{hotrod_pod_hash=\"${!hash_var}\",span_kind=\"SPAN_KIND_SERVER\",span_name=\"/dispatch\"}[2m])))" \
            >"$dir/prometheus/dispatch-p95-$name.json"
    done
    e2e_record_names "$dir"
}

# e2e_record_names DIR: names.json, the facts a preset needs, from the answers above.
e2e_record_names() {
    local dir=$1
    jq -S -n \
        --slurpfile meta "$dir/prometheus/metadata.json" \
        --slurpfile calls "$dir/prometheus/series-calls-healthy.json" \
        --slurpfile buckets "$dir/prometheus/series-duration-bucket-healthy-dispatch.json" \
        --slurpfile hot "$dir/prometheus/series-hotrod-requests-healthy.json" \
        --slurpfile kinds "$dir/prometheus/status-by-kind.json" '
        def labels(s): [s[0].data[] | keys[]] | unique;
        def values(s; l): [s[0].data[] | .[l] // empty] | unique;
        {
          spanmetrics: {
            calls: {name: "traces_span_metrics_calls_total", labels: labels($calls)},
            duration: {
              name: "traces_span_metrics_duration_milliseconds_bucket",
              labels: labels($buckets),
              le: (values($buckets; "le") | sort_by(if . == "+Inf" then 1e300 else tonumber end))
            },
            metadata: ($meta[0].data | with_entries(select(.key | startswith("traces_span_metrics")))),
            service_name: values($calls; "service_name"),
            span_kind: ([$kinds[0].data.result[].metric.span_kind] | unique),
            status_code: ([$kinds[0].data.result[].metric.status_code] | unique),
            span_name: values($calls; "span_name")
          },
          hotrod: {
            requests: {name: "hotrod_requests_total", labels: labels($hot), endpoint: values($hot; "endpoint")},
            metadata: ($meta[0].data | with_entries(select(.key | startswith("hotrod_"))))
          }
        }' >"$dir/names.json"
}

# e2e_record_readme_facts DIR: the check table of this run, for the fixtures README.
e2e_record_readme_facts() {
    cut -f1-8 "$E2E_TABLE" >"$1/verdicts.out.tsv"
}
