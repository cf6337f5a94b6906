// Package grpcpeer is the `grpc` subcommand of the argo peer: an independent
// go-plugin host for canary-gate's gRPC mode (tests/argo_grpc.rs). It
// launches the plugin with hashicorp/go-plugin's own client at the version
// the peer's Argo line pins (AllowedProtocols: gRPC only), through the
// go-plugin process contract (cookie, handshake line, unix socket), and
// drives every service of proto/ with Go's grpc stack: MetricProvider's
// seven methods, GRPCController, GRPCStdio and GRPCBroker (go-plugin opens
// the last two itself at start), plus grpc.health.v1.
//
// The client has no generated code: proto/ is compiled at start (see
// contract.go), and the AnalysisRun and Metric are argo's own v1alpha1 types
// as Kubernetes JSON (fixtures.go).
//
//	argo-peer grpc -plugin BIN -proto DIR -scenario NAME [-expect-phase P] [-expect-message-contains S]
//	argo-peer grpc -plugin BIN -proto DIR -run-config FILE [-success-condition C] [-failure-condition C]
//
// -run-config makes one Run with the plugin config in FILE and prints the
// Measurement as `phase=… value=… message=… metadata=…`.
package grpcpeer

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/dynamicpb"

	"canarygate/argopeer"
)

func init() {
	argopeer.Register("grpc", argopeer.Command{
		Summary: "drive canary-gate in gRPC mode with go-plugin's client (-scenario NAME or -run-config FILE)",
		Run:     run,
	})
}

// handshakeConfig and pluginName are argo's (unexported in
// metricproviders/plugin/client/client.go@v1.9.1 and @v1.10.0); the plugin
// checks the same cookie in both modes.
var handshakeConfig = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "ARGO_ROLLOUTS_RPC_PLUGIN",
	MagicCookieValue: "metricprovider",
}

const pluginName = "RpcMetricProviderPlugin"

// hostPlugin is the host side of the gRPC plugin: Dispense hands out
// go-plugin's connection, on which the scenarios call proto/'s services.
type hostPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (hostPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("host side only")
}

func (hostPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return c, nil
}

type options struct {
	plugin, protoDir, scenario, runConfig, pluginName string
	expectPhase, expectMsg                            string
	successCondition, failureCondition                string
	verbose                                           bool
	contract                                          *contract
}

func run(args []string) (err error) {
	var o options
	fs := flag.NewFlagSet("grpc", flag.ContinueOnError)
	fs.StringVar(&o.plugin, "plugin", "", "path of the plugin binary (required)")
	fs.StringVar(&o.protoDir, "proto", "", "the repository's proto/ directory (required)")
	fs.StringVar(&o.scenario, "scenario", "", "scenario to run: all, "+strings.Join(scenarioNames(), ", "))
	fs.StringVar(&o.runConfig, "run-config", "", "JSON plugin config for one Run; prints the Measurement")
	fs.StringVar(&o.pluginName, "plugin-name", "argoproj-labs/canary-gate", "plugin name as configured in argo's ConfigMap")
	fs.StringVar(&o.expectPhase, "expect-phase", "", "expected Measurement phase (Argo spelling, e.g. Error)")
	fs.StringVar(&o.expectMsg, "expect-message-contains", "", "expected substring of Measurement.message")
	fs.StringVar(&o.successCondition, "success-condition", "", "Metric successCondition for -run-config")
	fs.StringVar(&o.failureCondition, "failure-condition", "", "Metric failureCondition for -run-config")
	fs.BoolVar(&o.verbose, "v", false, "copy go-plugin's log (including the plugin's stderr lines) to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.plugin == "" || o.protoDir == "" {
		return errors.New("grpc: -plugin and -proto are required")
	}
	defer plugin.CleanupClients()
	defer func() {
		if r := recover(); r != nil {
			ce, ok := r.(contractError)
			if !ok {
				panic(r)
			}
			err = ce
		}
	}()
	if o.contract, err = loadContract(o.protoDir); err != nil {
		return err
	}
	switch {
	case o.runConfig != "":
		return runConfig(o)
	case o.scenario != "":
		return runScenarios(o)
	}
	return errors.New("grpc: nothing to do: give -scenario or -run-config")
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

// session is a started plugin with go-plugin's gRPC connection.
type session struct {
	client *plugin.Client
	rpc    *plugin.GRPCClient
	conn   *grpc.ClientConn
	c      *contract
	pid    int
	socket string
	log    *syncBuffer
}

// start launches the plugin as a gRPC go-plugin host does, dispenses,
// initialises and pings, asserting each step.
func start(o options) (s *session, err error) {
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
		Plugins:          map[string]plugin.Plugin{pluginName: hostPlugin{}},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Managed:          true,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: out, Level: hclog.Trace}),
	})
	defer func() {
		if err != nil {
			c.Kill()
		}
	}()
	rc, err := c.Client()
	if err != nil {
		return nil, fmt.Errorf("unable to get plugin client: %w", err)
	}
	if p := c.Protocol(); p != plugin.ProtocolGRPC {
		return nil, fmt.Errorf("negotiated protocol %q, want grpc", p)
	}
	grpcClient, ok := rc.(*plugin.GRPCClient)
	if !ok {
		return nil, fmt.Errorf("client protocol is %T, want *plugin.GRPCClient", rc)
	}
	raw, err := rc.Dispense(pluginName)
	if err != nil {
		return nil, fmt.Errorf("unable to dispense plugin: %w", err)
	}
	s = &session{client: c, rpc: grpcClient, conn: raw.(*grpc.ClientConn), c: o.contract, log: log}
	initResp, err := s.call(mInitPlugin)
	if err != nil {
		return nil, fmt.Errorf("InitPlugin: %w", err)
	}
	if e := sub(initResp, "error"); e != nil {
		return nil, fmt.Errorf("InitPlugin: error %s %q", enumName(e, "kind"), str(e, "message"))
	}
	if err := rc.Ping(); err != nil {
		return nil, fmt.Errorf("ping after init: %w", err)
	}
	if rcfg := c.ReattachConfig(); rcfg != nil {
		s.pid = rcfg.Pid
		s.socket = rcfg.Addr.String()
	}
	if s.pid == 0 || !strings.HasPrefix(s.socket, "/") {
		return nil, fmt.Errorf("no pid/socket from ReattachConfig: %d %q", s.pid, s.socket)
	}
	return s, nil
}

// call makes a unary call on the session's connection.
func (s *session) call(method string, fields ...any) (*dynamicpb.Message, error) {
	return s.c.invoke(context.Background(), s.conn, method, fields...)
}
