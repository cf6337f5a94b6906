// Command interop-host plays the Argo Rollouts controller against a
// metric-provider plugin binary: it launches the plugin through hashicorp
// go-plugin exactly as argo's metricproviders/plugin/client does (same
// HandshakeConfig, plugin map, Managed client, Dispense, InitPlugin, Ping)
// and calls it through a net/rpc client shaped like argo's MetricsPluginRPC.
//
// Usage:
//
//	interop-host -plugin PATH -scenario all|methods|concurrent|big|unknown-method|wrong-stream|quit|host-killed|plugin-killed
//	interop-host -plugin PATH -run-config FILE.json -expect-phase P [-expect-value V] [-expect-message-contains S]
//	interop-host -plugin PATH -bench N -concurrency C
//	interop-host -plugin PATH -bench-startup K
//
// Exit status 0 means every assertion held; failures are printed as FAIL lines.
package main

import (
	"canarygate/gopeer"
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"net/rpc"
	"os"
	"os/exec"
	"strings"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
)

// The handshake and plugin map argo's client uses.
var handshakeConfig = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "ARGO_ROLLOUTS_RPC_PLUGIN",
	MagicCookieValue: "metricprovider",
}

var pluginMap = map[string]plugin.Plugin{
	"RpcMetricProviderPlugin": &RpcMetricProviderPlugin{},
}

// RpcMetricProviderPlugin is the host half of argo's plugin definition.
type RpcMetricProviderPlugin struct{}

// Server is never used on the host side.
func (p *RpcMetricProviderPlugin) Server(*plugin.MuxBroker) (interface{}, error) {
	return nil, errors.New("interop-host only runs the client side")
}

// Client wraps the dispensed stream's rpc client, like argo's MetricsPluginRPC.
func (p *RpcMetricProviderPlugin) Client(b *plugin.MuxBroker, c *rpc.Client) (interface{}, error) {
	return &MetricsPluginRPC{client: c}, nil
}

type options struct {
	plugin, scenario, runConfig, pluginName   string
	expectPhase, expectValue, expectMsg       string
	successCondition, failureCondition        string
	bench, concurrency, benchStartup, benchKB int
	benchConfig                               string
	pidFile                                   string
	verbose                                   bool
}

func main() {
	var o options
	flag.StringVar(&o.plugin, "plugin", "", "path of the plugin binary (required)")
	flag.StringVar(&o.scenario, "scenario", "", "scenario to run (all, methods, concurrent, big, unknown-method, wrong-stream, quit, host-killed, plugin-killed)")
	flag.StringVar(&o.runConfig, "run-config", "", "JSON plugin config for one Run (Metric.Provider.Plugin[-plugin-name])")
	flag.StringVar(&o.pluginName, "plugin-name", "argoproj-labs/canary-gate", "plugin name as configured in argo's ConfigMap")
	flag.StringVar(&o.expectPhase, "expect-phase", "", "expected Measurement.Phase")
	flag.StringVar(&o.expectValue, "expect-value", "", "expected Measurement.Value")
	flag.StringVar(&o.expectMsg, "expect-message-contains", "", "expected substring of Measurement.Message")
	flag.StringVar(&o.successCondition, "success-condition", "", "Metric.SuccessCondition for -run-config")
	flag.StringVar(&o.failureCondition, "failure-condition", "", "Metric.FailureCondition for -run-config")
	flag.IntVar(&o.bench, "bench", 0, "run N Runs and report plugin CPU/RSS")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent Runs for -bench")
	flag.IntVar(&o.benchKB, "bench-kb", 20, "approximate gob size of the AnalysisRun for -bench, KiB")
	flag.StringVar(&o.benchConfig, "bench-config", "", "JSON plugin config for the -bench Runs (default: a closed Prometheus port)")
	flag.IntVar(&o.benchStartup, "bench-startup", 0, "start the plugin K times and report start→handshake times")
	flag.StringVar(&o.pidFile, "pid-file", "", "internal: where serve-forever writes the plugin pid and socket")
	flag.BoolVar(&o.verbose, "v", false, "show go-plugin's log (including the plugin's stderr lines)")
	flag.Parse()
	if o.plugin == "" {
		fmt.Fprintln(os.Stderr, "interop-host: -plugin is required")
		os.Exit(2)
	}
	var err error
	switch {
	case o.benchStartup > 0:
		err = benchStartup(o)
	case o.bench > 0:
		err = benchRuns(o)
	case o.runConfig != "":
		err = runConfig(o)
	case o.scenario != "":
		err = runScenarios(o)
	default:
		err = errors.New("nothing to do: give -scenario, -run-config, -bench or -bench-startup")
	}
	plugin.CleanupClients()
	gopeer.Report(err)
}

// newClient starts the plugin the way argo's startPluginSystem does.
func newClient(o options) *plugin.Client {
	logger := hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: ioutil.Discard, Level: hclog.Trace})
	if o.verbose {
		logger = hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: os.Stderr, Level: hclog.Trace})
	}
	return plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: handshakeConfig,
		Plugins:         pluginMap,
		Cmd:             exec.Command(o.plugin),
		Managed:         true,
		Logger:          logger,
	})
}

// session is a started plugin with its dispensed provider, as argo caches them.
type session struct {
	client *plugin.Client
	rpc    plugin.ClientProtocol
	plugin *MetricsPluginRPC
	pid    int
	socket string
}

// start launches, dispenses, initialises and pings, asserting each step.
func start(o options) (*session, error) {
	c := newClient(o)
	rc, err := c.Client()
	if err != nil {
		c.Kill()
		return nil, fmt.Errorf("unable to get plugin client: %w", err)
	}
	raw, err := rc.Dispense("RpcMetricProviderPlugin")
	if err != nil {
		c.Kill()
		return nil, fmt.Errorf("unable to dispense plugin: %w", err)
	}
	p, ok := raw.(*MetricsPluginRPC)
	if !ok {
		c.Kill()
		return nil, fmt.Errorf("unexpected type from plugin: %T", raw)
	}
	if resp := p.InitPlugin(); resp.ErrorString != "" {
		c.Kill()
		return nil, fmt.Errorf("unable to initialize plugin via rpc: %s", resp.ErrorString)
	}
	if err := rc.Ping(); err != nil {
		c.Kill()
		return nil, fmt.Errorf("ping after init: %w", err)
	}
	s := &session{client: c, rpc: rc, plugin: p}
	if rcfg := c.ReattachConfig(); rcfg != nil {
		s.pid = rcfg.Pid
		s.socket = rcfg.Addr.String()
	}
	if s.pid == 0 || !strings.HasPrefix(s.socket, "/") {
		c.Kill()
		return nil, fmt.Errorf("no pid/socket from ReattachConfig: %d %q", s.pid, s.socket)
	}
	return s, nil
}
