package host

// The modes besides the scenarios: one Run with a given plugin config
// (-run-config, used by tests/argo_live.rs), and the figures of
// scripts/bench-wire (-bench through argo's client, -bench-startup on the
// bare binary).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"
)

// runConfig runs one measurement with a plugin config from a file.
func runConfig(o options) error {
	cfg, err := os.ReadFile(o.runConfig)
	if err != nil {
		return err
	}
	if !json.Valid(cfg) {
		return fmt.Errorf("%s is not valid JSON", o.runConfig)
	}
	m := sampleMetric("run-config", o.pluginName, cfg)
	m.SuccessCondition, m.FailureCondition = o.successCondition, o.failureCondition
	s, err := start(o, m)
	if err != nil {
		return err
	}
	res, before, after := timedRun(s.prov, sampleRun(m, 0, 0, 0), m)
	fmt.Printf("phase=%s value=%q message=%q metadata=%v\n", res.Phase, res.Value, res.Message, res.Metadata)
	return checkMeasurement("Run", res, before, after, o)
}

// benchRuns reports the plugin's idle RSS and its CPU and peak RSS over
// o.bench Runs through argo's provider, as one JSON line.
func benchRuns(o options) error {
	config := []byte(defaultConfig)
	if o.benchConfig != "" {
		var err error
		if config, err = os.ReadFile(o.benchConfig); err != nil {
			return err
		}
	}
	m := sampleMetric("error-rate", o.pluginName, config)
	s, err := start(o, m)
	if err != nil {
		return err
	}
	ar := benchRun(m, o.benchKB)
	size := gobValueSize(ar, m)
	if res := s.prov.Run(ar, m); !completed[res.Phase] { // warm-up: type definitions travel once
		return fmt.Errorf("warm-up Run: phase %q, message %q", res.Phase, res.Message)
	}
	time.Sleep(200 * time.Millisecond)
	idle, err := procStatus(s.pid, "VmRSS")
	if err != nil {
		return err
	}
	out, err := measureLoad(s.pid, o.bench, o.concurrency, func() error {
		res := s.prov.Run(ar, m)
		if !completed[res.Phase] || strings.Contains(res.Message, "rpc call error") {
			return fmt.Errorf("Run: phase %q, message %q", res.Phase, res.Message)
		}
		return nil
	})
	if err != nil {
		return err
	}
	out["analysis_run_gob_bytes"] = size
	out["idle_rss_kib"] = idle
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	return nil
}

// benchStartup measures exec → handshake line, the way go-plugin waits for it.
func benchStartup(o options) error {
	var ds []time.Duration
	for i := 0; i < o.benchStartup; i++ {
		cmd := exec.Command(o.plugin)
		cmd.Env = append(os.Environ(), "ARGO_ROLLOUTS_RPC_PLUGIN=metricprovider",
			"PLUGIN_PROTOCOL_VERSIONS=1", "PLUGIN_MIN_PORT=10000", "PLUGIN_MAX_PORT=25000")
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		d := time.Since(t0)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if err != nil || !strings.HasPrefix(line, "1|1|unix|") {
			return fmt.Errorf("handshake line %q: %v", line, err)
		}
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b, _ := json.Marshal(map[string]any{
		"starts": len(ds), "median_us": ds[len(ds)/2].Microseconds(),
		"p90_us": ds[len(ds)*9/10].Microseconds(), "min_us": ds[0].Microseconds(),
	})
	fmt.Println(string(b))
	return nil
}
