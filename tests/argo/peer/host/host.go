// Package host is the `host` subcommand of the argo peer: it plays the Argo
// Rollouts controller against a metric-provider plugin binary, through
// argo's own plugin path at the release the peer is built against. The
// plugin is installed as the controller installs it (../loader: ConfigMap,
// InitializeConfig, DownloadPlugins), and every call goes through
// metricproviders/plugin.NewRpcPlugin, i.e. argo's client package (one
// go-plugin client per plugin name: Managed, net/rpc; Dispense, InitPlugin
// and Ping on start, Ping on every later lookup) and its rpc.MetricsPluginRPC,
// with argo's v1alpha1 types.
//
// Usage:
//
//	argo-peer host -plugin BIN -scenario all|methods|concurrent|big|unknown-method|wrong-stream|quit|host-killed|plugin-killed
//	argo-peer host -plugin BIN -run-config FILE.json -expect-phase P [-expect-value V] [-expect-message-contains S]
//	argo-peer host -plugin BIN -bench N -concurrency C [-bench-kb K] [-bench-config FILE.json]
//	argo-peer host -plugin BIN -bench-startup K
//
// -v copies go-plugin's log (which carries the plugin's stderr lines) to
// stderr; the scenarios read that log in any case.
package host

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/argoproj/argo-rollouts/metricproviders/plugin"
	"github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	hclog "github.com/hashicorp/go-hclog"
	goPlugin "github.com/hashicorp/go-plugin"

	"canarygate/argopeer"
	"canarygate/argopeer/loader"
)

func init() {
	argopeer.Register("host", argopeer.Command{
		Summary: "drive a plugin binary through argo's plugin loader and RPC client (scenarios, -run-config, -bench)",
		Run:     run,
	})
}

type options struct {
	plugin, scenario, runConfig, pluginName   string
	expectPhase, expectValue, expectMsg       string
	successCondition, failureCondition        string
	bench, concurrency, benchStartup, benchKB int
	benchConfig, pidFile, dir                 string
	verbose, ownDir                           bool
}

func run(args []string) error {
	var o options
	fs := flag.NewFlagSet("host", flag.ContinueOnError)
	fs.StringVar(&o.plugin, "plugin", "", "path of the plugin binary (required)")
	fs.StringVar(&o.scenario, "scenario", "", "scenario to run: all, or one of "+scenarioNames())
	fs.StringVar(&o.runConfig, "run-config", "", "JSON plugin config for one Run (Metric.Provider.Plugin[-plugin-name])")
	fs.StringVar(&o.pluginName, "plugin-name", "argoproj-labs/canary-gate", "plugin name in argo's ConfigMap (<namespace>/<name>)")
	fs.StringVar(&o.expectPhase, "expect-phase", "", "expected Measurement.Phase")
	fs.StringVar(&o.expectValue, "expect-value", "", "expected Measurement.Value")
	fs.StringVar(&o.expectMsg, "expect-message-contains", "", "expected substring of Measurement.Message")
	fs.StringVar(&o.successCondition, "success-condition", "", "Metric.SuccessCondition for -run-config")
	fs.StringVar(&o.failureCondition, "failure-condition", "", "Metric.FailureCondition for -run-config")
	fs.IntVar(&o.bench, "bench", 0, "run N Runs and report plugin CPU/RSS")
	fs.IntVar(&o.concurrency, "concurrency", 16, "concurrent Runs for -bench")
	fs.IntVar(&o.benchKB, "bench-kb", 20, "approximate gob size of the AnalysisRun for -bench, KiB")
	fs.StringVar(&o.benchConfig, "bench-config", "", "JSON plugin config for the -bench Runs (default: a closed Prometheus port)")
	fs.IntVar(&o.benchStartup, "bench-startup", 0, "start the plugin K times and report start→handshake times")
	fs.StringVar(&o.pidFile, "pid-file", "", "internal: where serve-forever writes the plugin pid and socket")
	fs.StringVar(&o.dir, "dir", "", "working directory for argo's plugin-bin (default: a fresh temporary one)")
	fs.BoolVar(&o.verbose, "v", false, "copy go-plugin's log (including the plugin's stderr lines) to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.plugin == "" {
		return errors.New("-plugin is required")
	}
	if o.benchStartup > 0 { // the bare binary: no argo involved
		return benchStartup(o)
	}
	if err := install(&o); err != nil {
		return err
	}
	defer func() {
		goPlugin.CleanupClients() // what the controller does on shutdown
		if o.ownDir {
			_ = os.RemoveAll(o.dir)
		}
	}()
	switch {
	case o.bench > 0:
		return benchRuns(o)
	case o.runConfig != "":
		return runConfig(o)
	case o.scenario != "":
		return runScenarios(o)
	}
	return errors.New("nothing to do: give -scenario, -run-config, -bench or -bench-startup")
}

// install captures go-plugin's log and installs the plugin with argo's loader.
func install(o *options) error {
	hclog.DefaultOutput = pluginLog.tee(o.verbose)
	if o.dir == "" {
		d, err := os.MkdirTemp("", "argo-peer-host-")
		if err != nil {
			return err
		}
		o.dir, o.ownDir = d, true
	}
	abs, err := filepath.Abs(o.plugin)
	if err != nil {
		return err
	}
	o.plugin = abs
	if _, err := loader.Install(o.dir, o.pluginName, o.plugin); err != nil {
		return fmt.Errorf("install plugin %s as %s: %w", o.plugin, o.pluginName, err)
	}
	return nil
}

// session is the plugin as argo's client holds it, with its process.
type session struct {
	prov   plugin.MetricPlugin
	pid    int
	socket string
}

// start gets the plugin the way argo's reconciler does (NewRpcPlugin for a
// metric naming it); a plugin started by an earlier scenario is stopped
// first, so that each scenario gets a fresh process.
func start(o options, m v1alpha1.Metric) (*session, error) {
	goPlugin.CleanupClients()
	return lookup(o, m)
}

// lookup is argo's provider lookup without the cleanup: a cached, live client
// is pinged and reused, an exited one replaced.
func lookup(o options, m v1alpha1.Metric) (*session, error) {
	p, err := plugin.NewRpcPlugin(m)
	if err != nil {
		return nil, fmt.Errorf("argo NewRpcPlugin: %w", err)
	}
	mp, ok := p.(plugin.MetricPlugin)
	if !ok {
		return nil, fmt.Errorf("NewRpcPlugin returned %T, want plugin.MetricPlugin", p)
	}
	path, err := loader.Path(o.pluginName)
	if err != nil {
		return nil, err
	}
	pid, err := childRunning(path)
	if err != nil {
		return nil, err
	}
	socket, err := listeningSocket(pid)
	if err != nil {
		return nil, err
	}
	return &session{prov: mp, pid: pid, socket: socket}, nil
}

// ping is argo's Ping: every NewRpcPlugin of a cached client pings it, and
// kills it when the ping fails. The same provider must come back (no restart).
func (s *session) ping(o options, m v1alpha1.Metric) error {
	again, err := lookup(o, m)
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if again.prov.MetricProviderPlugin != s.prov.MetricProviderPlugin || again.pid != s.pid {
		return fmt.Errorf("ping: argo's client restarted the plugin (pid %d → %d)", s.pid, again.pid)
	}
	return nil
}

// rpcOf is argo's MetricsPluginRPC behind a provider.
func (s *session) rpcOf() (*rpc.MetricsPluginRPC, error) {
	r, ok := s.prov.MetricProviderPlugin.(*rpc.MetricsPluginRPC)
	if !ok {
		return nil, fmt.Errorf("argo's client dispensed %T, want *rpc.MetricsPluginRPC", s.prov.MetricProviderPlugin)
	}
	return r, nil
}

// logBuffer collects go-plugin's log: argo's client gives go-plugin no
// logger, so go-plugin writes to hclog.DefaultOutput (go-plugin@v1.6.3
// client.go NewClient), including every stderr line of the plugin.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
	out io.Writer
}

var pluginLog = &logBuffer{}

func (l *logBuffer) tee(verbose bool) io.Writer {
	if verbose {
		l.out = os.Stderr
	}
	return l
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf.Write(p)
	l.mu.Unlock()
	if l.out != nil {
		_, _ = l.out.Write(p)
	}
	return len(p), nil
}

// mark is the current end of the log, for since.
func (l *logBuffer) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Len()
}

// since is the log written after mark.
func (l *logBuffer) since(mark int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()[mark:]
}

// waitLine waits (up to limit) for a log line after mark that contains
// every one of parts, and returns it.
func (l *logBuffer) waitLine(mark int, limit time.Duration, parts ...string) (string, bool) {
	for t0 := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		for _, line := range strings.Split(l.since(mark), "\n") {
			if containsAll(line, parts) {
				return line, true
			}
		}
		if time.Since(t0) > limit {
			return "", false
		}
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
