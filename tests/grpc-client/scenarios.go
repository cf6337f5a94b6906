package main

import (
	"canarygate/gopeer"
	"context"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"strings"
	"time"

	pb "canarygate/metricprovider/v1"

	"github.com/golang/protobuf/proto"
	"github.com/golang/protobuf/ptypes"
	"github.com/golang/protobuf/ptypes/empty"
	tspb "github.com/golang/protobuf/ptypes/timestamp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
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

func runScenarios(o options) error {
	list := make([]gopeer.Scenario, 0, len(scenarios))
	for _, s := range scenarios {
		s := s
		list = append(list, gopeer.Scenario{Name: s.name, Run: func() error { return s.run(o) }})
	}
	return gopeer.RunScenarios(o.scenario, list)
}

// argoPhase is the Argo spelling of a proto phase ("PHASE_SUCCESSFUL" → "Successful").
func argoPhase(p pb.Phase) string {
	s := strings.TrimPrefix(p.String(), "PHASE_")
	return s[:1] + strings.ToLower(s[1:])
}

var completed = map[pb.Phase]bool{
	pb.Phase_PHASE_SUCCESSFUL: true, pb.Phase_PHASE_FAILED: true,
	pb.Phase_PHASE_ERROR: true, pb.Phase_PHASE_INCONCLUSIVE: true,
}

// slack covers clock reads on both sides of the wire (same clock, different processes).
const slack = time.Millisecond

func within(t, before, after time.Time) bool {
	return !t.Before(before.Add(-slack)) && !t.After(after.Add(slack))
}

func toTime(what string, ts *tspb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, fmt.Errorf("%s missing", what)
	}
	return ptypes.Timestamp(ts)
}

// checkMeasurement asserts a completed measurement field by field.
// keepStart, when non-zero, is a started_at the plugin may have carried over.
func checkMeasurement(what string, m *pb.Measurement, before, after time.Time, keepStart time.Time, o options) error {
	if m == nil {
		return fmt.Errorf("%s: no measurement", what)
	}
	if !completed[m.Phase] {
		return fmt.Errorf("%s: phase %v is not a completed phase", what, m.Phase)
	}
	fin, err := toTime(what+": finished_at", m.FinishedAt)
	if err != nil || !within(fin, before, after) {
		return fmt.Errorf("%s: finished_at %v (%v) not within the call window [%v, %v]", what, fin, err, before, after)
	}
	st, err := toTime(what+": started_at", m.StartedAt)
	if err != nil {
		return err
	}
	carried := !keepStart.IsZero() && st.Equal(keepStart)
	if !carried && !within(st, before, after) {
		return fmt.Errorf("%s: started_at %v neither carried over nor within the call window", what, st)
	}
	if st.After(fin) {
		return fmt.Errorf("%s: started_at %v after finished_at %v", what, st, fin)
	}
	if m.ResumeAt != nil {
		return fmt.Errorf("%s: resume_at set on a completed measurement: %v", what, m.ResumeAt)
	}
	if o.expectPhase != "" && argoPhase(m.Phase) != o.expectPhase {
		return fmt.Errorf("%s: phase %s, want %s (message %q)", what, argoPhase(m.Phase), o.expectPhase, m.Message)
	}
	if o.expectMsg != "" && !strings.Contains(m.Message, o.expectMsg) {
		return fmt.Errorf("%s: message %q does not contain %q", what, m.Message, o.expectMsg)
	}
	return nil
}

func bg() context.Context { return context.Background() }

func timedRun(s *session, run, metric []byte) (*pb.Measurement, time.Time, time.Time, error) {
	before := time.Now()
	res, err := s.mp.Run(bg(), &pb.RunRequest{AnalysisRun: run, Metric: metric})
	return res.GetMeasurement(), before, time.Now(), err
}

// checkHealth asks grpc.health.v1 about "plugin" directly (go-plugin's Ping only checks for no error).
func checkHealth(s *session) error {
	resp, err := healthpb.NewHealthClient(s.rpc.Conn).Check(bg(), &healthpb.HealthCheckRequest{Service: "plugin"})
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	if resp.Status != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health of \"plugin\" is %v, want SERVING", resp.Status)
	}
	return nil
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
	m := sampleMetric("error-rate", o.pluginName, []byte(defaultConfig))
	metric, run := mustJSON(m), mustJSON(sampleRun(m, 3, 0))
	typ, err := s.mp.Type(bg(), &pb.TypeRequest{})
	if err != nil || typ.GetType() != "RPCPlugin" {
		return fmt.Errorf("Type: %q, %v; want \"RPCPlugin\"", typ.GetType(), err)
	}
	for i := 0; i < 2; i++ {
		res, before, after, err := timedRun(s, run, metric)
		if err != nil {
			return fmt.Errorf("Run #%d: %w", i, err)
		}
		if err := checkMeasurement("Run", res, before, after, time.Time{}, o); err != nil {
			return err
		}
	}
	// canary-gate never leaves a measurement Running: Resume and Terminate
	// return it unchanged, field by field (as over net/rpc).
	priorStart := time.Now().Add(-time.Minute).Truncate(time.Second)
	ts, _ := ptypes.TimestampProto(priorStart)
	resumeTs, _ := ptypes.TimestampProto(priorStart.Add(90 * time.Second))
	prior := &pb.Measurement{
		Phase:     pb.Phase_PHASE_RUNNING,
		Message:   "taken by an earlier Run",
		Value:     "[0.5]",
		Metadata:  map[string]string{"reason": "Passed", "query": "up"},
		StartedAt: ts,
		ResumeAt:  resumeTs,
	}
	res, err := s.mp.Resume(bg(), &pb.ResumeRequest{AnalysisRun: run, Metric: metric, Measurement: prior})
	if err != nil {
		return fmt.Errorf("Resume: %w", err)
	}
	if !proto.Equal(res.GetMeasurement(), prior) {
		return fmt.Errorf("Resume: %v, want the measurement unchanged %v", res.GetMeasurement(), prior)
	}
	tres, err := s.mp.Terminate(bg(), &pb.TerminateRequest{AnalysisRun: run, Metric: metric, Measurement: prior})
	if err != nil {
		return fmt.Errorf("Terminate: %w", err)
	}
	if !proto.Equal(tres.GetMeasurement(), prior) {
		return fmt.Errorf("Terminate: %v, want the measurement unchanged %v", tres.GetMeasurement(), prior)
	}
	gc, err := s.mp.GarbageCollect(bg(), &pb.GarbageCollectRequest{AnalysisRun: run, Metric: metric, Limit: 10})
	if err != nil || gc.GetError() != nil {
		return fmt.Errorf("GarbageCollect: %v, %v", gc.GetError(), err)
	}
	md, err := s.mp.GetMetadata(bg(), &pb.GetMetadataRequest{Metric: metric})
	if err != nil {
		return fmt.Errorf("GetMetadata: %w", err)
	}
	if e, ok := md.Metadata["error"]; ok {
		return fmt.Errorf("GetMetadata: error key %q", e)
	}
	if q := md.Metadata["query"]; !strings.Contains(q, `rollouts_pod_template_hash="6d4f8b9c7"`) || md.Metadata["check"] != "error-rate" {
		return fmt.Errorf("GetMetadata: %v, want the error-rate query for hash 6d4f8b9c7", md.Metadata)
	}
	if err := s.rpc.Ping(); err != nil {
		return fmt.Errorf("Ping: %w", err)
	}
	return nil
}

func scenarioConcurrent(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	return gopeer.Parallel(32, 20*time.Second, func(i int) error {
		m := sampleMetric(fmt.Sprintf("metric-%d", i), o.pluginName, []byte(defaultConfig))
		res, before, after, err := timedRun(s, mustJSON(sampleRun(m, i%5, 0)), mustJSON(m))
		if err == nil {
			err = checkMeasurement(fmt.Sprintf("Run %d", i), res, before, after, time.Time{}, o)
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
	return checkMeasurement("Run (1 MiB annotation)", res, before, after, time.Time{}, o)
}

// maxMessageSize is the plugin's MAX_MESSAGE_SIZE (src/grpc/mod.rs).
const maxMessageSize = 4 << 20

func scenarioBadInput(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	m := sampleMetric("error-rate", o.pluginName, []byte(defaultConfig))
	metric, run := mustJSON(m), mustJSON(sampleRun(m, 3, 0))
	running := &pb.Measurement{Phase: pb.Phase_PHASE_RUNNING}
	cases := []struct {
		name   string
		call   func() error
		code   codes.Code
		prefix string
	}{
		{"malformed analysis_run", func() error {
			_, err := s.mp.Run(bg(), &pb.RunRequest{AnalysisRun: []byte(`{"metadata": [`), Metric: metric})
			return err
		}, codes.InvalidArgument, "analysis_run: invalid AnalysisRun JSON: "},
		{"metric of the wrong shape", func() error {
			_, err := s.mp.Run(bg(), &pb.RunRequest{AnalysisRun: run, Metric: []byte(`{"name": 42}`)})
			return err
		}, codes.InvalidArgument, "metric: invalid Metric JSON: invalid type: integer `42`"},
		{"unknown phase", func() error {
			_, err := s.mp.Resume(bg(), &pb.ResumeRequest{AnalysisRun: run, Metric: metric,
				Measurement: &pb.Measurement{Phase: pb.Phase(42)}})
			return err
		}, codes.InvalidArgument, "measurement.phase: unknown phase value 42"},
		{"missing measurement", func() error {
			_, err := s.mp.Terminate(bg(), &pb.TerminateRequest{AnalysisRun: run, Metric: metric})
			return err
		}, codes.InvalidArgument, "measurement: required field is missing"},
		{"bad timestamp", func() error {
			bad := *running
			bad.FinishedAt = &tspb.Timestamp{Seconds: 1, Nanos: 2000000000}
			_, err := s.mp.Resume(bg(), &pb.ResumeRequest{AnalysisRun: run, Metric: metric, Measurement: &bad})
			return err
		}, codes.InvalidArgument, "measurement.finished_at: timestamp nanos 2000000000 out of range"},
		{"oversized message", func() error {
			_, err := s.mp.Run(bg(), &pb.RunRequest{AnalysisRun: run,
				Metric: []byte(strings.Repeat(" ", maxMessageSize+1))})
			return err
		}, codes.ResourceExhausted, "request message too large (MAX_MESSAGE_SIZE = 4194304 bytes)"},
	}
	for _, c := range cases {
		err := c.call()
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
	if err := checkMeasurement("Run after bad input", res, before, after, time.Time{}, o); err != nil {
		return err
	}
	return checkHealth(s)
}

// waitExit waits up to d for the plugin process to be gone.
func waitExit(s *session, d time.Duration) error {
	deadline := time.Now().Add(d)
	for !s.client.Exited() {
		if time.Now().After(deadline) {
			return fmt.Errorf("plugin pid %d still running %v later", s.pid, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := os.Stat(s.socket); !os.IsNotExist(err) {
		return fmt.Errorf("socket %s still exists after exit (%v)", s.socket, err)
	}
	return nil
}

// waitLog waits briefly for a line in go-plugin's log (stderr is relayed asynchronously).
func waitLog(s *session, want ...string) error {
	deadline := time.Now().Add(time.Second)
	for {
		log := s.log.String()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(log, w)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("plugin log lacks %q:\n%s", want, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func scenarioShutdown(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	// GRPCStdio/StreamStdio (go-plugin 1.0.1 predates it; newer hosts call it
	// at start): it must stay open and silent.
	desc := &grpc.StreamDesc{StreamName: "StreamStdio", ServerStreams: true}
	st, err := s.rpc.Conn.NewStream(bg(), desc, "/plugin.GRPCStdio/StreamStdio")
	if err != nil {
		return fmt.Errorf("StreamStdio: %w", err)
	}
	if err := st.SendMsg(&empty.Empty{}); err != nil {
		return fmt.Errorf("StreamStdio send: %w", err)
	}
	_ = st.CloseSend()
	recv := make(chan error, 1)
	go func() {
		var msg empty.Empty
		recv <- st.RecvMsg(&msg)
	}()
	select {
	case err := <-recv:
		return fmt.Errorf("StreamStdio must stay open and silent, got %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	t0 := time.Now()
	if err := s.rpc.Conn.Invoke(bg(), "/plugin.GRPCController/Shutdown", &empty.Empty{}, &empty.Empty{}); err != nil {
		return fmt.Errorf("GRPCController/Shutdown: %w", err)
	}
	select {
	case err := <-recv:
		if err != io.EOF {
			return fmt.Errorf("StreamStdio after Shutdown: %v, want a clean end of stream", err)
		}
	case <-time.After(2 * time.Second):
		return fmt.Errorf("StreamStdio still open 2 s after Shutdown")
	}
	if err := waitExit(s, 2*time.Second-time.Since(t0)); err != nil {
		return fmt.Errorf("after GRPCController/Shutdown: %w", err)
	}
	fmt.Printf("exit after Shutdown: %v\n", time.Since(t0).Round(time.Millisecond))
	return waitLog(s, "plugin exiting", "Quit")
}

func scenarioConnClosed(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	t0 := time.Now()
	// The host goes away without Shutdown: the plugin must not linger.
	if err := s.rpc.Conn.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	if err := waitExit(s, 2*time.Second); err != nil {
		return fmt.Errorf("after the host closed its connection: %w", err)
	}
	fmt.Printf("exit after close: %v\n", time.Since(t0).Round(time.Millisecond))
	return waitLog(s, "plugin exiting", "HostClosed")
}

// runConfig runs one measurement with a plugin config from a file and
// prints it in the same format as the net/rpc host (tests/interop).
func runConfig(o options) error {
	cfg, err := ioutil.ReadFile(o.runConfig)
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
	m["successCondition"], m["failureCondition"] = o.successCondition, o.failureCondition
	res, before, after, err := timedRun(s, mustJSON(sampleRun(m, 0, 0)), mustJSON(m))
	if err != nil {
		return fmt.Errorf("Run: %w", err)
	}
	fmt.Printf("phase=%s value=%q message=%q metadata=%v\n", argoPhase(res.Phase), res.Value, res.Message, res.Metadata)
	return checkMeasurement("Run", res, before, after, time.Time{}, o)
}
