package main

import (
	"bufio"
	"canarygate/gopeer"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"
)

func benchRuns(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	config := []byte(defaultConfig)
	if o.benchConfig != "" {
		if config, err = ioutil.ReadFile(o.benchConfig); err != nil {
			return err
		}
	}
	m := sampleMetric("error-rate", o.pluginName, config)
	ar := benchRun(m, o.benchKB)
	size := gobValueSize(ar, m)
	if _, err := s.plugin.Run(ar, m); err != nil { // warm-up: type definitions travel once
		return err
	}
	time.Sleep(200 * time.Millisecond)
	idle, err := gopeer.ProcStatus(s.pid, "VmRSS")
	if err != nil {
		return err
	}
	out, err := gopeer.MeasureLoad(s.pid, o.bench, o.concurrency, func() error {
		res, err := s.plugin.Run(ar, m)
		if err == nil && !completed[res.Phase] {
			err = fmt.Errorf("phase %q", res.Phase)
		}
		return err
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
	b, _ := json.Marshal(map[string]interface{}{
		"starts": len(ds), "median_us": ds[len(ds)/2].Microseconds(),
		"p90_us": ds[len(ds)*9/10].Microseconds(), "min_us": ds[0].Microseconds(),
	})
	fmt.Println(string(b))
	return nil
}
