package grpcpeer

// The scenarios over MetricProvider and grpc.health.v1 (streams.go has the
// ones about go-plugin's own services and the end of the process), and
// -run-config.

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
)

var scenarios = []struct {
	name string
	run  func(options) error
}{
	{"methods", scenarioMethods},
	{"concurrent", scenarioConcurrent},
	{"big", scenarioBig},
	{"bad-input", scenarioBadInput},
	{"shutdown", scenarioShutdown},
	{"conn-closed", scenarioConnClosed},
}

func scenarioNames() []string {
	var names []string
	for _, s := range scenarios {
		names = append(names, s.name)
	}
	return names
}

// runScenarios runs the scenario called o.scenario, or all of them for "all".
func runScenarios(o options) error {
	ran := false
	for _, s := range scenarios {
		if o.scenario != "all" && o.scenario != s.name {
			continue
		}
		ran = true
		t0 := time.Now()
		if err := s.run(o); err != nil {
			return fmt.Errorf("scenario %s (argo-rollouts %s): %w", s.name, argoLine(), err)
		}
		fmt.Printf("ok   %-15s %v\n", s.name, time.Since(t0).Round(time.Millisecond))
	}
	if !ran {
		return fmt.Errorf("unknown scenario %q (have: all, %s)", o.scenario, strings.Join(scenarioNames(), ", "))
	}
	return nil
}

// argoPhase is the Argo spelling of a proto phase ("PHASE_SUCCESSFUL" → "Successful").
func argoPhase(p string) string {
	s := strings.TrimPrefix(p, "PHASE_")
	return s[:1] + strings.ToLower(s[1:])
}

var completed = map[string]bool{"Successful": true, "Failed": true, "Error": true, "Inconclusive": true}

// slack covers clock reads on both sides of the wire (same clock, different processes).
const slack = time.Millisecond

func within(t, before, after time.Time) bool {
	return !t.Before(before.Add(-slack)) && !t.After(after.Add(slack))
}

// checkMeasurement asserts a completed measurement field by field.
func checkMeasurement(what string, m *dynamicpb.Message, before, after time.Time, o options) error {
	if m == nil {
		return fmt.Errorf("%s: no measurement", what)
	}
	phase, msg := argoPhase(enumName(m, "phase")), str(m, "message")
	if !completed[phase] {
		return fmt.Errorf("%s: phase %s is not a completed phase", what, phase)
	}
	fin, ok := timestamp(m, "finished_at")
	if !ok || !within(fin, before, after) {
		return fmt.Errorf("%s: finished_at %v (set: %v) not within the call window [%v, %v]", what, fin, ok, before, after)
	}
	st, ok := timestamp(m, "started_at")
	if !ok || !within(st, before, after) || st.After(fin) {
		return fmt.Errorf("%s: started_at %v (set: %v) not within [%v, finished_at %v]", what, st, ok, before, fin)
	}
	if r, ok := timestamp(m, "resume_at"); ok {
		return fmt.Errorf("%s: resume_at set on a completed measurement: %v", what, r)
	}
	if o.expectPhase != "" && phase != o.expectPhase {
		return fmt.Errorf("%s: phase %s, want %s (message %q)", what, phase, o.expectPhase, msg)
	}
	if o.expectMsg != "" && !strings.Contains(msg, o.expectMsg) {
		return fmt.Errorf("%s: message %q does not contain %q", what, msg, o.expectMsg)
	}
	return nil
}

func timedRun(s *session, run, metric []byte) (*dynamicpb.Message, time.Time, time.Time, error) {
	before := time.Now()
	res, err := s.call(mRun, "analysis_run", run, "metric", metric)
	return sub(res, "measurement"), before, time.Now(), err
}

// checkHealth asks grpc.health.v1 about "plugin" directly (go-plugin's Ping only checks for no error).
func checkHealth(s *session) error {
	resp, err := healthpb.NewHealthClient(s.conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: "plugin"})
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	if resp.Status != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health of \"plugin\" is %v, want SERVING", resp.Status)
	}
	return nil
}

// defaultInput is the metric and AnalysisRun (with `prior` measurements) of defaultConfig.
func defaultInput(o options, name string, prior int) (metric, run []byte) {
	m := sampleMetric(name, o.pluginName, []byte(defaultConfig))
	return mustJSON(m), mustJSON(sampleRun(m, prior, 0))
}

func scenarioMethods(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	if err := checkHealth(s); err != nil {
		return err
	}
	metric, run := defaultInput(o, "error-rate", 3)
	typ, err := s.call(mType)
	if err != nil || str(typ, "type") != "RPCPlugin" {
		return fmt.Errorf("Type: %q, %v; want \"RPCPlugin\"", str(typ, "type"), err)
	}
	for i := 0; i < 2; i++ {
		res, before, after, err := timedRun(s, run, metric)
		if err != nil {
			return fmt.Errorf("Run #%d: %w", i, err)
		}
		if err := checkMeasurement("Run", res, before, after, o); err != nil {
			return err
		}
	}
	// canary-gate never leaves a measurement Running: Resume and Terminate
	// return it unchanged, field by field (as over net/rpc).
	priorStart := time.Now().Add(-time.Minute).Truncate(time.Second)
	prior := s.c.message(measurementMsg, "phase", "PHASE_RUNNING", "message", "taken by an earlier Run",
		"value", "[0.5]", "metadata", map[string]string{"reason": "Passed", "query": "up"},
		"started_at", priorStart, "resume_at", priorStart.Add(90*time.Second))
	for _, method := range []string{mResume, mTerminate} {
		res, err := s.call(method, "analysis_run", run, "metric", metric, "measurement", prior)
		if err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		if got := sub(res, "measurement"); !proto.Equal(got, prior) {
			return fmt.Errorf("%s: %v, want the measurement unchanged %v", method, got, prior)
		}
	}
	gc, err := s.call(mGC, "analysis_run", run, "metric", metric, "limit", int64(10))
	if err != nil || sub(gc, "error") != nil {
		return fmt.Errorf("GarbageCollect: %v, %v", sub(gc, "error"), err)
	}
	md, err := s.call(mGetMetadata, "metric", metric)
	if err != nil {
		return fmt.Errorf("GetMetadata: %w", err)
	}
	meta := strMap(md, "metadata")
	if e, ok := meta["error"]; ok {
		return fmt.Errorf("GetMetadata: error key %q", e)
	}
	if q := meta["query"]; !strings.Contains(q, `rollouts_pod_template_hash="6d4f8b9c7"`) || meta["check"] != "error-rate" {
		return fmt.Errorf("GetMetadata: %v, want the error-rate query for hash 6d4f8b9c7", meta)
	}
	if err := s.rpc.Ping(); err != nil {
		return fmt.Errorf("Ping: %w", err)
	}
	return nil
}

// parallel runs f(0..n-1) at once and returns the first error, or an error
// when they have not all finished within limit (a hang guard).
func parallel(n int, limit time.Duration, f func(i int) error) error {
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- f(i)
		}(i)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		return fmt.Errorf("%d concurrent calls did not all finish within %v", n, limit)
	}
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func scenarioConcurrent(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	return parallel(32, 20*time.Second, func(i int) error {
		metric, run := defaultInput(o, fmt.Sprintf("metric-%d", i), i%5)
		res, before, after, err := timedRun(s, run, metric)
		if err == nil {
			err = checkMeasurement(fmt.Sprintf("Run %d", i), res, before, after, o)
		}
		return err
	})
}

func scenarioBig(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	m := sampleMetric("error-rate", o.pluginName, []byte(defaultConfig))
	run := mustJSON(sampleRun(m, 3, 1<<20))
	res, before, after, err := timedRun(s, run, mustJSON(m))
	if err != nil {
		return fmt.Errorf("Run with a %d-byte AnalysisRun: %w", len(run), err)
	}
	return checkMeasurement("Run (1 MiB annotation)", res, before, after, o)
}

// maxMessageSize is the plugin's MAX_MESSAGE_SIZE (src/grpc/mod.rs).
const maxMessageSize = 4 << 20

func scenarioBadInput(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	metric, run := defaultInput(o, "error-rate", 3)
	cases := []struct {
		name   string
		method string
		fields []any
		code   codes.Code
		prefix string
	}{
		{"malformed analysis_run", mRun, []any{"analysis_run", []byte(`{"metadata": [`), "metric", metric},
			codes.InvalidArgument, "analysis_run: invalid AnalysisRun JSON: "},
		{"metric of the wrong shape", mRun, []any{"analysis_run", run, "metric", []byte(`{"name": 42}`)},
			codes.InvalidArgument, "metric: invalid Metric JSON: invalid type: integer `42`"},
		{"unknown phase", mResume, []any{"analysis_run", run, "metric", metric,
			"measurement", fields{"phase", protoEnum(42)}},
			codes.InvalidArgument, "measurement.phase: unknown phase value 42"},
		{"missing measurement", mTerminate, []any{"analysis_run", run, "metric", metric},
			codes.InvalidArgument, "measurement: required field is missing"},
		{"bad timestamp", mResume, []any{"analysis_run", run, "metric", metric,
			"measurement", fields{"phase", "PHASE_RUNNING", "finished_at", fields{"seconds", int64(1), "nanos", int32(2000000000)}}},
			codes.InvalidArgument, "measurement.finished_at: timestamp nanos 2000000000 out of range"},
		{"oversized message", mRun, []any{"analysis_run", run, "metric", []byte(strings.Repeat(" ", maxMessageSize+1))},
			codes.ResourceExhausted, "request message too large (MAX_MESSAGE_SIZE = 4194304 bytes)"},
	}
	for _, c := range cases {
		_, err := s.call(c.method, c.fields...)
		st, _ := status.FromError(err)
		if err == nil || st.Code() != c.code || !strings.HasPrefix(st.Message(), c.prefix) {
			return fmt.Errorf("%s: got %v, want %v with message starting %q", c.name, err, c.code, c.prefix)
		}
	}
	// The server keeps serving, on the same connection.
	res, before, after, err := timedRun(s, run, metric)
	if err != nil {
		return fmt.Errorf("Run after bad input: %w", err)
	}
	if err := checkMeasurement("Run after bad input", res, before, after, o); err != nil {
		return err
	}
	return checkHealth(s)
}

// runConfig runs one measurement with the plugin config in a file and
// prints it in the net/rpc host's format (`phase=… value=… message=… metadata=map[…]`).
func runConfig(o options) error {
	cfg, err := os.ReadFile(o.runConfig)
	if err != nil {
		return err
	}
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	m := sampleMetric("run-config", o.pluginName, cfg)
	// As the net/rpc host does: the conditions come from the flags.
	m.SuccessCondition, m.FailureCondition = o.successCondition, o.failureCondition
	res, before, after, err := timedRun(s, mustJSON(sampleRun(m, 0, 0)), mustJSON(m))
	if err != nil {
		return fmt.Errorf("Run: %w", err)
	}
	if res != nil {
		fmt.Printf("phase=%s value=%q message=%q metadata=%v\n", argoPhase(enumName(res, "phase")),
			str(res, "value"), str(res, "message"), strMap(res, "metadata"))
	}
	return checkMeasurement("Run", res, before, after, o)
}
