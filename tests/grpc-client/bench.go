package main

import (
	"encoding/json"
	"fmt"
	"io/ioutil"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clkTck is USER_HZ, the unit of utime/stime in /proc/PID/stat (100 on Linux).
const clkTck = 100

func procStatus(pid int, key string) (int, error) {
	b, err := ioutil.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, key+":") {
			if f := strings.Fields(line[len(key)+1:]); len(f) > 0 {
				return strconv.Atoi(f[0])
			}
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", key, pid)
}

// cpuTicks is utime+stime of pid (fields 14 and 15 of /proc/PID/stat).
func cpuTicks(pid int) (int, error) {
	b, err := ioutil.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, err1 := strconv.Atoi(f[11])
	st, err2 := strconv.Atoi(f[12])
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	return u + st, nil
}

// cpuNanos is the CPU time of every thread of pid, in ns, summed from
// /proc/PID/task/*/schedstat (first field). utime+stime come in 10 ms ticks,
// too coarse for calls costing tens of microseconds; both are reported.
func cpuNanos(pid int) (int64, error) {
	tasks, err := ioutil.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var total int64
	for _, t := range tasks {
		b, err := ioutil.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // the thread exited meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad %s schedstat: %q", t.Name(), b)
		}
		total += ns
	}
	return total, nil
}

// benchRuns measures the plugin process while it serves N Runs over gRPC,
// with the same shape of input and the same output keys as the net/rpc host.
func benchRuns(o options) error {
	s, err := start(o)
	if err != nil {
		return err
	}
	defer s.client.Kill()
	time.Sleep(200 * time.Millisecond)
	startRSS, err := procStatus(s.pid, "VmRSS")
	if err != nil {
		return err
	}
	m := sampleMetric("error-rate", o.pluginName, []byte(defaultConfig))
	metric, run := mustJSON(m), benchRun(m, o.benchKB)
	if _, _, _, err := timedRun(s, run, metric); err != nil { // warm-up
		return err
	}
	time.Sleep(200 * time.Millisecond)
	idle, err := procStatus(s.pid, "VmRSS")
	if err != nil {
		return err
	}
	cpu0, _ := cpuTicks(s.pid)
	ns0, _ := cpuNanos(s.pid)
	t0 := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < o.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				res, _, _, err := timedRun(s, run, metric)
				if err == nil && !completed[res.GetPhase()] {
					err = fmt.Errorf("phase %v", res.GetPhase())
				}
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < o.bench; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	wall := time.Since(t0)
	if firstErr != nil {
		return firstErr
	}
	cpu1, _ := cpuTicks(s.pid)
	ns1, _ := cpuNanos(s.pid)
	hwm, _ := procStatus(s.pid, "VmHWM")
	b, _ := json.Marshal(map[string]interface{}{
		"protocol": "grpc", "runs": o.bench, "concurrency": o.concurrency,
		"analysis_run_json_bytes": len(run),
		"startup_rss_kib":         startRSS, "idle_rss_kib": idle, "peak_rss_kib": hwm,
		"cpu_us_per_run":       float64(ns1-ns0) / 1e3 / float64(o.bench),
		"cpu_us_per_run_ticks": float64(cpu1-cpu0) * (1e6 / clkTck) / float64(o.bench),
		"wall_us_per_run":      float64(wall.Microseconds()) / float64(o.bench),
	})
	fmt.Println(string(b))
	return nil
}
