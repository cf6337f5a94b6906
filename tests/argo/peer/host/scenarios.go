package host

// The scenarios that call the plugin through argo's provider: every method,
// concurrency, big messages, unknown methods and calls on the wrong stream.

import (
	"fmt"
	netrpc "net/rpc"
	"reflect"
	"strings"
	"time"
	"unsafe"

	"github.com/argoproj/argo-rollouts/metricproviders/plugin"
	"github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"

	"canarygate/argopeer"
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

func scenarioNames() string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// runScenarios runs the scenario called o.scenario, or all of them, printing
// one line per scenario; the first failure stops the run.
func runScenarios(o options) error {
	if o.scenario == "serve-forever" {
		return serveForever(o)
	}
	ran := false
	for _, s := range scenarios {
		if o.scenario != "all" && o.scenario != s.name {
			continue
		}
		ran = true
		t0 := time.Now()
		if err := s.run(o); err != nil {
			return fmt.Errorf("scenario %s (argo-rollouts %s): %w", s.name, argopeer.Line, err)
		}
		fmt.Printf("ok   %-15s %v\n", s.name, time.Since(t0).Round(time.Millisecond))
	}
	if !ran {
		return fmt.Errorf("unknown scenario %q (known: all, %s)", o.scenario, scenarioNames())
	}
	return nil
}

func defaultMetric(o options, name string) v1alpha1.Metric {
	return sampleMetric(name, o.pluginName, []byte(defaultConfig))
}

func scenarioMethods(o options) error {
	m := defaultMetric(o, "error-rate")
	s, err := start(o, m)
	if err != nil {
		return err
	}
	ar := sampleRun(m, 3, 0, 0)
	if r := s.prov.InitPlugin(); r.HasError() { // argo called it once already, in start
		return fmt.Errorf("InitPlugin: ErrorString %q", r.ErrorString)
	}
	if typ := s.prov.Type(); typ != plugin.ProviderType {
		return fmt.Errorf("Type: %q, want %q", typ, plugin.ProviderType)
	}
	for i := 0; i < 2; i++ { // the second Run exercises the already-sent type definitions
		res, before, after := timedRun(s.prov, ar, m)
		if err := checkMeasurement(fmt.Sprintf("Run #%d", i), res, before, after, o); err != nil {
			return err
		}
	}
	if err := resumeAndTerminate(s, ar, m); err != nil {
		return err
	}
	if err := s.prov.GarbageCollect(ar, m, 10); err != nil {
		return fmt.Errorf("GarbageCollect: %w", err)
	}
	md := s.prov.GetMetadata(m)
	if e, ok := md["error"]; ok {
		return fmt.Errorf("GetMetadata: error key %q", e)
	}
	// The resolved query of defaultConfig: the error-rate check scoped to the hash.
	if q := md["query"]; !strings.Contains(q, `rollouts_pod_template_hash="6d4f8b9c7"`) || !strings.Contains(q, "hotrod_requests_total") {
		return fmt.Errorf("GetMetadata: query %q, want the error-rate query for hash 6d4f8b9c7", q)
	}
	if md["check"] != "error-rate" {
		return fmt.Errorf("GetMetadata: check %q, want error-rate (metadata %v)", md["check"], md)
	}
	return s.ping(o, m)
}

// resumeAndTerminate: canary-gate never leaves a measurement Running, so
// Resume and Terminate are no-ops: the measurement comes back unchanged,
// field by field (times through metav1.Time's gob encoding).
func resumeAndTerminate(s *session, ar *v1alpha1.AnalysisRun, m v1alpha1.Metric) error {
	started := time.Now().Add(-time.Minute).Truncate(time.Second)
	prior := v1alpha1.Measurement{
		Phase:     v1alpha1.AnalysisPhaseRunning,
		Message:   "taken by an earlier Run",
		Value:     "[0.5]",
		Metadata:  map[string]string{"reason": "Passed", "query": "up"},
		StartedAt: timep(started),
		ResumeAt:  timep(started.Add(90 * time.Second)),
	}
	calls := []struct {
		name string
		f    func(*v1alpha1.AnalysisRun, v1alpha1.Metric, v1alpha1.Measurement) v1alpha1.Measurement
	}{{"Resume", s.prov.Resume}, {"Terminate", s.prov.Terminate}}
	for _, call := range calls {
		if err := sameMeasurement(call.f(ar, m, prior), prior); err != nil {
			return fmt.Errorf("%s: %w", call.name, err)
		}
	}
	return nil
}

func scenarioConcurrent(o options) error {
	m := defaultMetric(o, "error-rate")
	s, err := start(o, m)
	if err != nil {
		return err
	}
	// Each Run looks its provider up as argo's reconciler does for each
	// metric (NewRpcPlugin: lock, cached client, Ping), then calls it.
	err = parallel(32, 20*time.Second, func(i int) error {
		mi := defaultMetric(o, fmt.Sprintf("metric-%d", i))
		p, err := plugin.NewRpcPlugin(mi)
		if err != nil {
			return fmt.Errorf("NewRpcPlugin %d: %w", i, err)
		}
		if p.(plugin.MetricPlugin).MetricProviderPlugin != s.prov.MetricProviderPlugin {
			return fmt.Errorf("NewRpcPlugin %d: argo's client restarted the plugin", i)
		}
		res, before, after := timedRun(p.(plugin.MetricPlugin), sampleRun(mi, i%4, 0, 0), mi)
		return checkMeasurement(fmt.Sprintf("Run %d", i), res, before, after, o)
	})
	if err != nil {
		return err
	}
	return s.ping(o, m)
}

func scenarioBig(o options) error {
	m := defaultMetric(o, "error-rate")
	s, err := start(o, m)
	if err != nil {
		return err
	}
	for _, size := range []int{1 << 20, 0} {
		err := parallel(1, 20*time.Second, func(int) error {
			res, before, after := timedRun(s.prov, sampleRun(m, 2, size, 0), m)
			return checkMeasurement(fmt.Sprintf("Run with a %d-byte annotation", size), res, before, after, o)
		})
		if err != nil {
			return err
		}
	}
	// Several large requests in flight at once: replies go out while the next
	// request is still arriving, in both directions under flow control.
	err = parallel(6, 30*time.Second, func(i int) error {
		res, before, after := timedRun(s.prov, sampleRun(m, i, 600<<10, 0), m)
		return checkMeasurement(fmt.Sprintf("concurrent 600 KiB Run %d", i), res, before, after, o)
	})
	if err != nil {
		return err
	}
	return s.ping(o, m)
}

// streamClient is the net/rpc client of the stream argo's MetricsPluginRPC
// calls on (its unexported field `client`, made by go-plugin's
// RPCClient.Dispense); only a test host would dig it out.
func streamClient(s *session) (*netrpc.Client, error) {
	r, err := s.rpcOf()
	if err != nil {
		return nil, err
	}
	return unexported[*netrpc.Client](reflect.ValueOf(r).Elem(), "client")
}

// unexported reads field name of the struct v as a T.
func unexported[T any](v reflect.Value, name string) (T, error) {
	var zero T
	f := v.FieldByName(name)
	if !f.IsValid() || f.Type() != reflect.TypeOf(zero) {
		return zero, fmt.Errorf("%s has no field %s of type %T", v.Type(), name, zero)
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(T), nil
}

func scenarioUnknownMethod(o options) error {
	m := defaultMetric(o, "error-rate")
	s, err := start(o, m)
	if err != nil {
		return err
	}
	c, err := streamClient(s)
	if err != nil {
		return err
	}
	var args any = rpc.GetMetadataArgs{Metric: m}
	var reply map[string]string
	err = c.Call("Plugin.Bogus", &args, &reply)
	if err == nil || err.Error() != "rpc: can't find method Plugin.Bogus" {
		return fmt.Errorf("Plugin.Bogus: error %v, want \"rpc: can't find method Plugin.Bogus\"", err)
	}
	if typ := s.prov.Type(); typ != plugin.ProviderType {
		return fmt.Errorf("Type after an unknown method: %q", typ)
	}
	res, before, after := timedRun(s.prov, sampleRun(m, 1, 0, 0), m)
	if err := checkMeasurement("Run after an unknown method", res, before, after, o); err != nil {
		return err
	}
	return s.ping(o, m)
}

// scenarioWrongStream sends go-plugin's control calls on the Plugin stream
// argo's client dispensed; the plugin must answer as Go's net/rpc server
// does, and the stream must stay usable.
func scenarioWrongStream(o options) error {
	m := defaultMetric(o, "error-rate")
	s, err := start(o, m)
	if err != nil {
		return err
	}
	c, err := streamClient(s)
	if err != nil {
		return err
	}
	var empty struct{}
	err = c.Call("Control.Ping", true, &empty)
	if err == nil || err.Error() != "rpc: can't find service Control.Ping" {
		return fmt.Errorf("Control.Ping on the Plugin stream: %v", err)
	}
	var id uint32
	err = c.Call("Dispenser.Dispense", "RpcMetricProviderPlugin", &id)
	if err == nil || err.Error() != "rpc: can't find service Dispenser.Dispense" {
		return fmt.Errorf("Dispenser.Dispense on the Plugin stream: %v", err)
	}
	if typ := s.prov.Type(); typ != plugin.ProviderType {
		return fmt.Errorf("Type after wrong-stream calls: %q", typ)
	}
	return s.ping(o, m)
}

func timedRun(p plugin.MetricPlugin, ar *v1alpha1.AnalysisRun, m v1alpha1.Metric) (v1alpha1.Measurement, time.Time, time.Time) {
	before := time.Now()
	res := p.Run(ar, m)
	return res, before, time.Now()
}
