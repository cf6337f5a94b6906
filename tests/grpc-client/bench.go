package main

import (
	"canarygate/gopeer"
	"encoding/json"
	"fmt"
	"time"
)

// benchRuns measures the plugin process while it serves N Runs over gRPC,
// with the same shape of input and the same output keys as the net/rpc host.
func benchRuns(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	time.Sleep(200 * time.Millisecond)
	startRSS, err := gopeer.ProcStatus(s.pid, "VmRSS")
	if err != nil {
		return err
	}
	m := sampleMetric("error-rate", o.pluginName, []byte(defaultConfig))
	metric, run := mustJSON(m), benchRun(m, o.benchKB)
	if _, _, _, err := timedRun(s, run, metric); err != nil { // warm-up
		return err
	}
	time.Sleep(200 * time.Millisecond)
	idle, err := gopeer.ProcStatus(s.pid, "VmRSS")
	if err != nil {
		return err
	}
	out, err := gopeer.MeasureLoad(s.pid, o.bench, o.concurrency, func() error {
		res, _, _, err := timedRun(s, run, metric)
		if err == nil && !completed[res.GetPhase()] {
			err = fmt.Errorf("phase %v", res.GetPhase())
		}
		return err
	})
	if err != nil {
		return err
	}
	out["protocol"] = "grpc"
	out["analysis_run_json_bytes"] = len(run)
	out["startup_rss_kib"] = startRSS
	out["idle_rss_kib"] = idle
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	return nil
}
