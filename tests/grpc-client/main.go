// Command grpc-client is an independent go-plugin host for canary-gate's
// gRPC mode: it launches the plugin with hashicorp go-plugin's own client
// (AllowedProtocols: gRPC only), reads the handshake, dials the unix socket
// and drives every service with Go's grpc stack and Go stubs generated from
// proto/ by protoc. It prints "PASS" or "FAIL: ..." as its last line.
package main

import (
	"bytes"
	"canarygate/gopeer"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	pb "canarygate/metricprovider/v1"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// handshakeConfig is argo's (the plugin checks the same cookie in both modes).
var handshakeConfig = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "ARGO_ROLLOUTS_RPC_PLUGIN",
	MagicCookieValue: "metricprovider",
}

const pluginName = "RpcMetricProviderPlugin"

// metricProviderPlugin is the host side of the gRPC plugin: Dispense hands
// out the generated client on go-plugin's connection.
type metricProviderPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (metricProviderPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("host side only")
}

func (metricProviderPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return pb.NewMetricProviderClient(c), nil
}

type options struct {
	plugin, scenario, runConfig, pluginName string
	expectPhase, expectMsg                  string
	successCondition, failureCondition      string
	bench, concurrency, benchKB             int
	verbose                                 bool
}

// syncBuffer collects go-plugin's log (which includes the plugin's stderr).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// session is a started plugin with its dispensed client.
type session struct {
	client *plugin.Client
	rpc    *plugin.GRPCClient
	mp     pb.MetricProviderClient
	pid    int
	socket string
	log    *syncBuffer
}

// start launches the plugin as a gRPC go-plugin host does, dispenses,
// initialises and pings, asserting each step.
func start(o options) (*session, error) {
	log := &syncBuffer{}
	var out io.Writer = log
	if o.verbose {
		out = io.MultiWriter(log, os.Stderr)
	}
	cmd := exec.Command(o.plugin)
	// gRPC mode is opt-in on the plugin side; go-plugin adds its own variables after these.
	cmd.Env = append(os.Environ(), "CANARY_GATE_PROTOCOL=grpc")
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  handshakeConfig,
		Plugins:          map[string]plugin.Plugin{pluginName: metricProviderPlugin{}},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Managed:          true,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: out, Level: hclog.Trace}),
	})
	rc, err := c.Client()
	if err != nil {
		c.Kill()
		return nil, fmt.Errorf("unable to get plugin client: %w", err)
	}
	if p := c.Protocol(); p != plugin.ProtocolGRPC {
		c.Kill()
		return nil, fmt.Errorf("negotiated protocol %q, want grpc", p)
	}
	grpcClient, ok := rc.(*plugin.GRPCClient)
	if !ok {
		c.Kill()
		return nil, fmt.Errorf("client protocol is %T, want *plugin.GRPCClient", rc)
	}
	raw, err := rc.Dispense(pluginName)
	if err != nil {
		c.Kill()
		return nil, fmt.Errorf("unable to dispense plugin: %w", err)
	}
	mp := raw.(pb.MetricProviderClient)
	init, err := mp.InitPlugin(context.Background(), &pb.InitPluginRequest{})
	if err != nil || init.GetError() != nil {
		c.Kill()
		return nil, fmt.Errorf("InitPlugin: %v, %v", init.GetError(), err)
	}
	if err := rc.Ping(); err != nil {
		c.Kill()
		return nil, fmt.Errorf("ping after init: %w", err)
	}
	s := &session{client: c, rpc: grpcClient, mp: mp, log: log}
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

func main() {
	var o options
	flag.StringVar(&o.plugin, "plugin", "", "path of the plugin binary (required)")
	flag.StringVar(&o.scenario, "scenario", "", "scenario to run: all, "+strings.Join(scenarioNames(), ", "))
	flag.StringVar(&o.runConfig, "run-config", "", "JSON plugin config for one Run; prints the Measurement")
	flag.StringVar(&o.pluginName, "plugin-name", "argoproj-labs/canary-gate", "plugin name as configured in argo's ConfigMap")
	flag.StringVar(&o.expectPhase, "expect-phase", "", "expected Measurement phase (Argo spelling, e.g. Error)")
	flag.StringVar(&o.expectMsg, "expect-message-contains", "", "expected substring of Measurement.message")
	flag.StringVar(&o.successCondition, "success-condition", "", "Metric successCondition for -run-config")
	flag.StringVar(&o.failureCondition, "failure-condition", "", "Metric failureCondition for -run-config")
	flag.IntVar(&o.bench, "bench", 0, "run N Runs and report plugin CPU/RSS")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent Runs for -bench")
	flag.IntVar(&o.benchKB, "bench-kb", 20, "approximate JSON size of the AnalysisRun for -bench, KiB")
	flag.BoolVar(&o.verbose, "v", false, "show go-plugin's log (including the plugin's stderr lines)")
	flag.Parse()
	if o.plugin == "" {
		fmt.Fprintln(os.Stderr, "grpc-client: -plugin is required")
		os.Exit(2)
	}
	var err error
	switch {
	case o.bench > 0:
		err = benchRuns(o)
	case o.runConfig != "":
		err = runConfig(o)
	case o.scenario != "":
		err = runScenarios(o)
	default:
		err = errors.New("nothing to do: give -scenario, -run-config or -bench")
	}
	plugin.CleanupClients()
	gopeer.Report(err)
}
