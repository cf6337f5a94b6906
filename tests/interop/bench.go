package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
			f := strings.Fields(line[len(key)+1:])
			if len(f) > 0 {
				return strconv.Atoi(f[0])
			}
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", key, pid)
}

// cpuTicks is utime+stime of pid.
func cpuTicks(pid int) (int, error) {
	b, err := ioutil.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	u, err1 := strconv.Atoi(f[11])
	st, err2 := strconv.Atoi(f[12])
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	return u + st, nil
}

// cpuNanos is the CPU time of all of pid's threads in nanoseconds, from
// /proc/PID/task/*/schedstat (field 1: time spent on the CPU). Finer than the
// 10 ms ticks of /proc/PID/stat, which matter when a Run costs microseconds.
func cpuNanos(pid int) (int64, error) {
	tasks, err := ioutil.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, t := range tasks {
		b, err := ioutil.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // thread exited meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}

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
				res, err := s.plugin.Run(ar, m)
				if err == nil && !completed[res.Phase] {
					err = fmt.Errorf("phase %q", res.Phase)
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
	out := map[string]interface{}{
		"runs": o.bench, "concurrency": o.concurrency, "analysis_run_gob_bytes": size,
		"idle_rss_kib": idle, "peak_rss_kib": hwm,
		"cpu_us_per_run":       float64(ns1-ns0) / 1e3 / float64(o.bench),
		"cpu_us_per_run_ticks": float64(cpu1-cpu0) * (1e6 / clkTck) / float64(o.bench),
		"wall_us_per_run":      float64(wall.Microseconds()) / float64(o.bench),
	}
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
