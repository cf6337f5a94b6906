package grpcpeer

// The scenarios about go-plugin's own services (GRPCStdio, GRPCBroker,
// GRPCController) and about how the plugin process ends.

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"canarygate/argopeer"
)

// exitLimit is how long go-plugin's Client.Kill waits for the plugin to exit
// after GRPCController/Shutdown before it kills the process
// (github.com/hashicorp/go-plugin@v1.6.3/client.go, Kill: 2 s).
const exitLimit = 2 * time.Second

// quiet is how long a stream must stay silent to count as open and idle.
const quiet = 300 * time.Millisecond

func protoEnum(n int32) protoreflect.EnumNumber { return protoreflect.EnumNumber(n) }

func argoLine() string { return argopeer.Line }

// openStream opens method, sends one message built from fields (unless nil),
// and returns a channel with the error that ends the receiving side.
func openStream(s *session, method string, closeSend bool, fields ...any) (grpc.ClientStream, <-chan error, error) {
	st, md, err := s.c.stream(context.Background(), s.conn, method)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", method, err)
	}
	if err := st.SendMsg(build(md.Input(), fields)); err != nil {
		return nil, nil, fmt.Errorf("%s send: %w", method, err)
	}
	if closeSend {
		if err := st.CloseSend(); err != nil {
			return nil, nil, fmt.Errorf("%s close send: %w", method, err)
		}
	}
	recv := make(chan error, 1)
	go func() {
		for {
			if err := st.RecvMsg(dynamicpb.NewMessage(md.Output())); err != nil {
				recv <- err
				return
			}
			recv <- fmt.Errorf("%s sent a message; it must stay silent", method)
		}
	}()
	return st, recv, nil
}

// silent asserts that a stream neither ends nor sends within quiet.
func silent(what string, recv <-chan error) error {
	select {
	case err := <-recv:
		return fmt.Errorf("%s must stay open and silent, got %v", what, err)
	case <-time.After(quiet):
		return nil
	}
}

// ends asserts that a stream ends cleanly (io.EOF: status OK) within limit.
func ends(what string, recv <-chan error, limit time.Duration) error {
	select {
	case err := <-recv:
		if err != io.EOF {
			return fmt.Errorf("%s: %v, want a clean end of stream", what, err)
		}
		return nil
	case <-time.After(limit):
		return fmt.Errorf("%s still open %v later", what, limit)
	}
}

// waitExit waits up to d for the plugin process to be gone with its socket.
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

// waitLog waits briefly for lines in go-plugin's log (stderr is relayed asynchronously).
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

// brokerOffer is a ConnInfo offering a brokered service, which the plugin
// (no sub-plugins) must read and drop.
var brokerOffer = []any{"service_id", uint32(7), "network", "unix", "address", "/nonexistent/broker.sock"}

// scenarioShutdown: the long-lived streams stay open and silent while the
// host keeps them, a broker stream ends when the host ends its side, and
// GRPCController/Shutdown ends the streams cleanly and the process.
// (go-plugin's own client has opened StreamStdio and StartStream at start;
// these are second ones, on the same connection.)
func scenarioShutdown(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	_, stdio, err := openStream(s, mStreamStdio, true)
	if err != nil {
		return err
	}
	_, broker, err := openStream(s, mStartStream, false, brokerOffer...)
	if err != nil {
		return err
	}
	_, closed, err := openStream(s, mStartStream, true, brokerOffer...)
	if err != nil {
		return err
	}
	if err := ends("StartStream after the host closed its side", closed, exitLimit); err != nil {
		return err
	}
	if err := silent("StreamStdio", stdio); err != nil {
		return err
	}
	if err := silent("StartStream", broker); err != nil {
		return err
	}
	t0 := time.Now()
	if _, err := s.call(mShutdown); err != nil {
		return fmt.Errorf("GRPCController/Shutdown: %w", err)
	}
	if err := ends("StreamStdio after Shutdown", stdio, exitLimit); err != nil {
		return err
	}
	if err := ends("StartStream after Shutdown", broker, exitLimit-time.Since(t0)); err != nil {
		return err
	}
	if err := waitExit(s, exitLimit-time.Since(t0)); err != nil {
		return fmt.Errorf("after GRPCController/Shutdown: %w", err)
	}
	fmt.Printf("exit after Shutdown: %v\n", time.Since(t0).Round(time.Millisecond))
	return waitLog(s, "plugin exiting", "Quit")
}

// scenarioConnClosed: the host goes away without Shutdown; the plugin must
// not linger.
func scenarioConnClosed(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	t0 := time.Now()
	if err := s.conn.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	if err := waitExit(s, exitLimit); err != nil {
		return fmt.Errorf("after the host closed its connection: %w", err)
	}
	fmt.Printf("exit after close: %v\n", time.Since(t0).Round(time.Millisecond))
	return waitLog(s, "plugin exiting", "HostClosed")
}
