package host

// The scenarios about the plugin's life: argo's shutdown (go-plugin
// CleanupClients, as controller/controller.go@v1.9.1 does), the host dying,
// and the plugin dying under argo's client.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	goPlugin "github.com/hashicorp/go-plugin"
)

// exitLine waits for go-plugin's "plugin process exited" line about pid,
// which it logs once it has reaped the process, just before marking the
// client Exited (go-plugin@v1.6.3 client.go Start).
func exitLine(mark, pid int) (string, error) {
	line, ok := pluginLog.waitLine(mark, 5*time.Second, "plugin process exited", " id="+strconv.Itoa(pid))
	if !ok {
		return "", fmt.Errorf("go-plugin logged no exit of plugin pid %d within 5s; its log:\n%s", pid, pluginLog.since(mark))
	}
	return line, nil
}

func scenarioQuit(o options) error {
	m := defaultMetric(o, "error-rate")
	s, err := start(o, m)
	if err != nil {
		return err
	}
	mark := pluginLog.mark()
	// Kill: Control.Quit, then up to 2 s for the process to exit before
	// go-plugin kills it.
	done := make(chan struct{})
	go func() { goPlugin.CleanupClients(); close(done) }()
	if !waitGone(s.pid, time.Second) {
		<-done
		return fmt.Errorf("plugin pid %d still running 1s after Control.Quit", s.pid)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("go-plugin's Kill did not return within 10s")
	}
	line, err := exitLine(mark, s.pid)
	if err != nil {
		return err
	}
	if strings.Contains(line, "error=") || strings.Contains(pluginLog.since(mark), "failed to exit gracefully") {
		return fmt.Errorf("plugin did not exit cleanly on Control.Quit: %s", pluginLog.since(mark))
	}
	if _, err := os.Stat(s.socket); !os.IsNotExist(err) {
		return fmt.Errorf("socket %s still exists after Quit (%v)", s.socket, err)
	}
	// argo's client sees the client Exited and starts a new plugin.
	again, err := lookup(o, m)
	if err != nil {
		return fmt.Errorf("lookup after Quit: %w", err)
	}
	if again.pid == s.pid {
		return fmt.Errorf("lookup after Quit returned the old pid %d", s.pid)
	}
	return nil
}

// serveForever is the child half of host-killed: start, report, block.
func serveForever(o options) error {
	s, err := start(o, defaultMetric(o, "error-rate"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.pidFile+".tmp", []byte(fmt.Sprintf("%d %s\n", s.pid, s.socket)), 0o600); err != nil {
		return err
	}
	if err := os.Rename(o.pidFile+".tmp", o.pidFile); err != nil {
		return err
	}
	select {}
}

func scenarioHostKilled(o options) error {
	dir, err := os.MkdirTemp(o.dir, "host-killed-")
	if err != nil {
		return err
	}
	pidFile := filepath.Join(dir, "pid")
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self, "host", "-plugin", o.plugin, "-plugin-name", o.pluginName,
		"-scenario", "serve-forever", "-pid-file", pidFile, "-dir", filepath.Join(dir, "child"))
	child.Stdout, child.Stderr = os.Stderr, os.Stderr
	if err := child.Start(); err != nil {
		return err
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	var pid int
	var socket string
	for t0 := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(pidFile); err == nil {
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
	if !waitGone(pid, time.Second) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		return fmt.Errorf("plugin pid %d still running 1s after its host was SIGKILLed", pid)
	}
	if _, err := os.Stat(socket); !os.IsNotExist(err) {
		return fmt.Errorf("socket %s still exists after the plugin exited (%v)", socket, err)
	}
	return nil
}

// scenarioPluginKilled: argo's client (metricproviders/plugin/client) keeps
// one go-plugin client per plugin name and replaces it when Exited() says
// its process is gone; a live-looking client whose Ping fails is killed and
// reported, and replaced on the next lookup. Either way the replacement is
// dispensed and gets InitPlugin, which the plugin logs at level debug.
func scenarioPluginKilled(o options) error {
	if err := os.Setenv("CANARY_GATE_LOG", "debug"); err != nil {
		return err
	}
	defer os.Unsetenv("CANARY_GATE_LOG")
	m := defaultMetric(o, "error-rate")
	s, err := start(o, m)
	if err != nil {
		return err
	}
	mark := pluginLog.mark()
	if err := syscall.Kill(s.pid, syscall.SIGKILL); err != nil {
		return err
	}
	line, err := exitLine(mark, s.pid)
	if err != nil {
		return err
	}
	if !strings.Contains(line, "signal: killed") {
		return fmt.Errorf("go-plugin's exit line for the SIGKILLed plugin: %q", line)
	}
	restart := pluginLog.mark()
	again, err := lookup(o, m)
	if err != nil && strings.Contains(err.Error(), "could not ping plugin") {
		// The lookup came between go-plugin's log line and Exited().
		fmt.Println("     argo's Ping noticed the killed plugin first; looking up again")
		again, err = lookup(o, m)
	}
	if err != nil {
		return fmt.Errorf("lookup after SIGKILL: %w", err)
	}
	if again.pid == s.pid || again.prov.MetricProviderPlugin == s.prov.MetricProviderPlugin {
		return fmt.Errorf("argo's client did not replace the killed plugin (pid %d → %d)", s.pid, again.pid)
	}
	if _, ok := pluginLog.waitLine(restart, 5*time.Second, "call answered", "method=Plugin.InitPlugin"); !ok {
		return fmt.Errorf("the new plugin (pid %d) logged no InitPlugin call; go-plugin's log:\n%s", again.pid, pluginLog.since(restart))
	}
	res, before, after := timedRun(again.prov, sampleRun(m, 0, 0, 0), m)
	return checkMeasurement("Run on the restarted plugin", res, before, after, o)
}
