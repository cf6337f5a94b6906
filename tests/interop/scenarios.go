package main

import (
	"canarygate/gopeer"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"net/rpc"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	plugin "github.com/hashicorp/go-plugin"
)

var scenarios = []struct {
	name string
	run  func(options) error
}{
	{"methods", scenarioMethods},
	{"concurrent", scenarioConcurrent},
	{"big", scenarioBig},
	{"unknown-method", scenarioUnknownMethod},
	{"wrong-stream", scenarioWrongStream},
	{"quit", scenarioQuit},
	{"host-killed", scenarioHostKilled},
	{"plugin-killed", scenarioPluginKilled},
}

func runScenarios(o options) error {
	if o.scenario == "serve-forever" {
		return serveForever(o)
	}
	list := make([]gopeer.Scenario, 0, len(scenarios))
	for _, s := range scenarios {
		s := s
		list = append(list, gopeer.Scenario{Name: s.name, Run: func() error { return s.run(o) }})
	}
	return gopeer.RunScenarios(o.scenario, list)
}

var completed = map[string]bool{"Successful": true, "Failed": true, "Error": true, "Inconclusive": true}

// slack covers clock reads on both sides of the wire (same clock, different processes).
const slack = time.Millisecond

func within(t time.Time, before, after time.Time) bool {
	return !t.Before(before.Add(-slack)) && !t.After(after.Add(slack))
}

// checkMeasurement asserts a completed measurement field by field.
// keepStart, when non-nil, is a StartedAt the plugin may have carried over.
func checkMeasurement(what string, m Measurement, before, after time.Time, keepStart *Time, o options) error {
	if !completed[m.Phase] {
		return fmt.Errorf("%s: Phase %q is not a completed phase", what, m.Phase)
	}
	if m.FinishedAt == nil || !within(m.FinishedAt.Time, before, after) {
		return fmt.Errorf("%s: FinishedAt %v not within the call window [%v, %v]", what, m.FinishedAt, before, after)
	}
	if m.StartedAt == nil {
		return fmt.Errorf("%s: StartedAt missing", what)
	}
	carried := keepStart != nil && m.StartedAt.Equal(keepStart.Time)
	if !carried && !within(m.StartedAt.Time, before, after) {
		return fmt.Errorf("%s: StartedAt %v neither carried over nor within the call window", what, m.StartedAt)
	}
	if m.StartedAt.After(m.FinishedAt.Time) {
		return fmt.Errorf("%s: StartedAt %v after FinishedAt %v", what, m.StartedAt, m.FinishedAt)
	}
	if m.ResumeAt != nil {
		return fmt.Errorf("%s: ResumeAt set on a completed measurement: %v", what, m.ResumeAt)
	}
	if o.expectPhase != "" && m.Phase != o.expectPhase {
		return fmt.Errorf("%s: Phase %q, want %q (message %q)", what, m.Phase, o.expectPhase, m.Message)
	}
	if o.expectValue != "" && m.Value != o.expectValue {
		return fmt.Errorf("%s: Value %q, want %q", what, m.Value, o.expectValue)
	}
	if o.expectMsg != "" && !strings.Contains(m.Message, o.expectMsg) {
		return fmt.Errorf("%s: Message %q does not contain %q", what, m.Message, o.expectMsg)
	}
	return nil
}

func timedRun(p *MetricsPluginRPC, ar *AnalysisRun, m Metric) (Measurement, time.Time, time.Time, error) {
	before := time.Now()
	res, err := p.Run(ar, m)
	return res, before, time.Now(), err
}

func scenarioMethods(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	m := sampleMetric("error-rate", o.pluginName, []byte(defaultConfig))
	ar := sampleRun(m, 3, 0, 0)
	if r := s.plugin.InitPlugin(); r.ErrorString != "" {
		return fmt.Errorf("InitPlugin: ErrorString %q", r.ErrorString)
	}
	typ, err := s.plugin.Type()
	if err != nil || typ != "RPCPlugin" {
		return fmt.Errorf("Type: %q, %v; want \"RPCPlugin\"", typ, err)
	}
	for i := 0; i < 2; i++ { // the second Run exercises the already-sent type definitions
		res, before, after, err := timedRun(s.plugin, ar, m)
		if err != nil {
			return fmt.Errorf("Run #%d: %w", i, err)
		}
		if err := checkMeasurement("Run", res, before, after, nil, o); err != nil {
			return err
		}
	}
	// canary-gate never leaves a measurement Running, so Resume and Terminate
	// are no-ops: the measurement comes back unchanged, field by field
	// (including times through the GobEncoder round trip).
	started := time.Now().Add(-time.Minute).Truncate(time.Second)
	prior := Measurement{
		Phase:     "Running",
		Message:   "taken by an earlier Run",
		Value:     "[0.5]",
		Metadata:  map[string]string{"reason": "Passed", "query": "up"},
		StartedAt: timep(started),
		ResumeAt:  timep(started.Add(90 * time.Second)),
	}
	for _, call := range []struct {
		name string
		f    func(*AnalysisRun, Metric, Measurement) (Measurement, error)
	}{{"Resume", s.plugin.Resume}, {"Terminate", s.plugin.Terminate}} {
		res, err := call.f(ar, m, prior)
		if err != nil {
			return fmt.Errorf("%s: %w", call.name, err)
		}
		if err := sameMeasurement(res, prior); err != nil {
			return fmt.Errorf("%s: %w", call.name, err)
		}
	}
	gc, err := s.plugin.GarbageCollect(ar, m, 10)
	if err != nil || gc.ErrorString != "" {
		return fmt.Errorf("GarbageCollect: %+v, %v", gc, err)
	}
	md, err := s.plugin.GetMetadata(m)
	if err != nil {
		return fmt.Errorf("GetMetadata: %w", err)
	}
	if e, ok := md["error"]; ok {
		return fmt.Errorf("GetMetadata: error key %q", e)
	}
	// The resolved query of defaultConfig: the error-rate check scoped to the hash.
	if q := md["query"]; !strings.Contains(q, `rollouts_pod_template_hash="6d4f8b9c7"`) || !strings.Contains(q, "hotrod_requests_total") {
		return fmt.Errorf("GetMetadata: query %q, want the error-rate query for hash 6d4f8b9c7", q)
	}
	if md["check"] != "error-rate" {
		return fmt.Errorf("GetMetadata: check %q, want error-rate", md["check"])
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
	err = gopeer.Parallel(32, 20*time.Second, func(i int) error {
		m := sampleMetric(fmt.Sprintf("metric-%d", i), o.pluginName, []byte(defaultConfig))
		res, before, after, err := timedRun(s.plugin, sampleRun(m, i%4, 0, 0), m)
		if err == nil {
			err = checkMeasurement(fmt.Sprintf("Run %d", i), res, before, after, nil, o)
		}
		return err
	})
	if err != nil {
		return err
	}
	return s.rpc.Ping()
}

func scenarioBig(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	m := sampleMetric("error-rate", o.pluginName, []byte(defaultConfig))
	for _, size := range []int{1 << 20, 0} {
		done := make(chan error, 1)
		go func() {
			res, before, after, err := timedRun(s.plugin, sampleRun(m, 2, size, 0), m)
			if err == nil {
				err = checkMeasurement(fmt.Sprintf("Run with %d-byte annotation", size), res, before, after, nil, o)
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				return err
			}
		case <-time.After(20 * time.Second):
			return fmt.Errorf("Run with a %d-byte annotation did not finish within 20s (flow-control deadlock?)", size)
		}
	}
	// Several large requests in flight at once: replies go out while the next
	// request is still arriving, in both directions under flow control.
	const n = 6
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			res, before, after, err := timedRun(s.plugin, sampleRun(m, i, 600<<10, 0), m)
			if err == nil {
				err = checkMeasurement(fmt.Sprintf("concurrent big Run %d", i), res, before, after, nil, o)
			}
			errs <- err
		}(i)
	}
	for i := 0; i < n; i++ {
		select {
		case err := <-errs:
			if err != nil {
				return err
			}
		case <-time.After(30 * time.Second):
			return fmt.Errorf("concurrent 600 KiB Runs did not finish within 30s")
		}
	}
	return s.rpc.Ping()
}

func scenarioUnknownMethod(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	m := sampleMetric("error-rate", o.pluginName, []byte(defaultConfig))
	var args interface{} = GetMetadataArgs{Metric: m}
	var reply map[string]string
	err = s.plugin.client.Call("Plugin.Bogus", &args, &reply)
	if err == nil || err.Error() != "rpc: can't find method Plugin.Bogus" {
		return fmt.Errorf("Plugin.Bogus: error %v, want \"rpc: can't find method Plugin.Bogus\"", err)
	}
	typ, err := s.plugin.Type()
	if err != nil || typ != "RPCPlugin" {
		return fmt.Errorf("Type after an unknown method: %q, %v", typ, err)
	}
	res, before, after, err := timedRun(s.plugin, sampleRun(m, 1, 0, 0), m)
	if err != nil {
		return fmt.Errorf("Run after an unknown method: %w", err)
	}
	return checkMeasurement("Run after an unknown method", res, before, after, nil, o)
}

// controlClient digs go-plugin's control-stream rpc.Client out of RPCClient
// (unexported in go-plugin 1.0.1); only a test host would do this.
func controlClient(rc plugin.ClientProtocol) (*rpc.Client, error) {
	c, ok := rc.(*plugin.RPCClient)
	if !ok {
		return nil, fmt.Errorf("not a net/rpc client: %T", rc)
	}
	f := reflect.ValueOf(c).Elem().FieldByName("control")
	if !f.IsValid() {
		return nil, fmt.Errorf("go-plugin RPCClient has no control field")
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(*rpc.Client), nil
}

func scenarioWrongStream(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	var empty struct{}
	err = s.plugin.client.Call("Control.Ping", true, &empty)
	if err == nil || err.Error() != "rpc: can't find service Control.Ping" {
		return fmt.Errorf("Control.Ping on the Plugin stream: %v", err)
	}
	ctl, err := controlClient(s.rpc)
	if err != nil {
		return err
	}
	m := sampleMetric("error-rate", o.pluginName, []byte(defaultConfig))
	var args interface{} = RunArgs{AnalysisRun: sampleRun(m, 0, 0, 0), Metric: m}
	var ms Measurement
	err = ctl.Call("Plugin.Run", &args, &ms)
	if err == nil || err.Error() != "rpc: can't find service Plugin.Run" {
		return fmt.Errorf("Plugin.Run on the control stream: %v", err)
	}
	var id uint32
	err = ctl.Call("Dispenser.Dispense", "Nope", &id)
	if err == nil || err.Error() != "unknown plugin type: Nope" {
		return fmt.Errorf("Dispense(\"Nope\"): %v", err)
	}
	if err := s.rpc.Ping(); err != nil {
		return fmt.Errorf("Ping after wrong-stream calls: %w", err)
	}
	typ, err := s.plugin.Type()
	if err != nil || typ != "RPCPlugin" {
		return fmt.Errorf("Type after wrong-stream calls: %q, %v", typ, err)
	}
	return nil
}

// gone reports whether pid has exited (absent, or a zombie nobody reaped yet).
func gone(pid int) bool {
	b, err := ioutil.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] == 'Z'
}

func waitGone(pid int, limit time.Duration) (time.Duration, bool) {
	t0 := time.Now()
	for time.Since(t0) < limit {
		if gone(pid) {
			return time.Since(t0), true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return limit, gone(pid)
}

func scenarioQuit(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	// RPCClient.Close is what Client.Kill does first: Control.Quit, then close the streams and session.
	if err := s.rpc.Close(); err != nil {
		return fmt.Errorf("Control.Quit was not graceful: %w", err)
	}
	if d, ok := waitGone(s.pid, time.Second); !ok {
		return fmt.Errorf("plugin pid %d still running 1s after Control.Quit", s.pid)
	} else if d > time.Second {
		return fmt.Errorf("plugin took %v to exit", d)
	}
	if _, err := os.Stat(s.socket); !os.IsNotExist(err) {
		return fmt.Errorf("socket %s still exists after Quit (%v)", s.socket, err)
	}
	return nil
}

// serveForever is the child half of host-killed: start, report, block.
func serveForever(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	if err := ioutil.WriteFile(o.pidFile+".tmp", []byte(fmt.Sprintf("%d %s\n", s.pid, s.socket)), 0o600); err != nil {
		return err
	}
	if err := os.Rename(o.pidFile+".tmp", o.pidFile); err != nil {
		return err
	}
	select {}
}

func scenarioHostKilled(o options) error {
	dir, err := ioutil.TempDir("", "interop-host")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pidFile := dir + "/pid"
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self, "-plugin", o.plugin, "-scenario", "serve-forever", "-pid-file", pidFile)
	child.Stdout, child.Stderr = os.Stderr, os.Stderr
	if err := child.Start(); err != nil {
		return err
	}
	defer child.Process.Kill()
	var pid int
	var socket string
	for t0 := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if b, err := ioutil.ReadFile(pidFile); err == nil {
			if _, err := fmt.Sscan(string(b), &pid, &socket); err != nil {
				return fmt.Errorf("pid file %q: %w", b, err)
			}
			break
		}
		if time.Since(t0) > 15*time.Second {
			return fmt.Errorf("child host did not start the plugin within 15s")
		}
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	_ = child.Wait()
	if d, ok := waitGone(pid, time.Second); !ok {
		syscall.Kill(pid, syscall.SIGKILL)
		return fmt.Errorf("plugin pid %d still running 1s after its host was SIGKILLed", pid)
	} else {
		fmt.Printf("     plugin exited %v after its host was killed\n", d.Round(time.Millisecond))
	}
	if _, err := os.Stat(socket); !os.IsNotExist(err) {
		return fmt.Errorf("socket %s still exists (%v)", socket, err)
	}
	return nil
}

func scenarioPluginKilled(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	if err := syscall.Kill(s.pid, syscall.SIGKILL); err != nil {
		return err
	}
	for t0 := time.Now(); !s.client.Exited(); time.Sleep(10 * time.Millisecond) {
		if time.Since(t0) > 5*time.Second {
			return fmt.Errorf("go-plugin did not notice the SIGKILLed plugin within 5s")
		}
	}
	if err := s.rpc.Ping(); err == nil {
		return fmt.Errorf("Ping to a killed plugin succeeded")
	}
	// argo: the client has Exited(), so it starts a fresh one on the next reconcile.
	s2, err := start(o)
	if err != nil {
		return fmt.Errorf("restart after SIGKILL: %w", err)
	}
	defer s2.client.Kill()
	m := sampleMetric("error-rate", o.pluginName, []byte(defaultConfig))
	res, before, after, err := timedRun(s2.plugin, sampleRun(m, 0, 0, 0), m)
	if err != nil {
		return fmt.Errorf("Run on the restarted plugin: %w", err)
	}
	return checkMeasurement("Run on the restarted plugin", res, before, after, nil, o)
}

// runConfig runs one measurement with a plugin config from a file.
func runConfig(o options) error {
	cfg, err := ioutil.ReadFile(o.runConfig)
	if err != nil {
		return err
	}
	if !json.Valid(cfg) {
		return fmt.Errorf("%s is not valid JSON", o.runConfig)
	}
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	m := sampleMetric("run-config", o.pluginName, cfg)
	m.SuccessCondition, m.FailureCondition = o.successCondition, o.failureCondition
	res, before, after, err := timedRun(s.plugin, sampleRun(m, 0, 0, 0), m)
	if err != nil {
		return fmt.Errorf("Run: %w", err)
	}
	fmt.Printf("phase=%s value=%q message=%q metadata=%v\n", res.Phase, res.Value, res.Message, res.Metadata)
	return checkMeasurement("Run", res, before, after, nil, o)
}

// sameMeasurement compares two measurements field by field, times as instants.
func sameMeasurement(got, want Measurement) error {
	if got.Phase != want.Phase || got.Message != want.Message || got.Value != want.Value {
		return fmt.Errorf("got {%q %q %q}, want {%q %q %q}", got.Phase, got.Message, got.Value, want.Phase, want.Message, want.Value)
	}
	if !reflect.DeepEqual(got.Metadata, want.Metadata) {
		return fmt.Errorf("Metadata %v, want %v", got.Metadata, want.Metadata)
	}
	for _, t := range []struct {
		name      string
		got, want *Time
	}{{"StartedAt", got.StartedAt, want.StartedAt}, {"FinishedAt", got.FinishedAt, want.FinishedAt}, {"ResumeAt", got.ResumeAt, want.ResumeAt}} {
		if (t.got == nil) != (t.want == nil) || (t.got != nil && !t.got.Time.Equal(t.want.Time)) {
			return fmt.Errorf("%s %v, want %v", t.name, t.got, t.want)
		}
	}
	return nil
}
