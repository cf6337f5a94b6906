// Package gopeer holds what the two Go peers of canary-gate's tests share:
// the net/rpc host (tests/interop, what the Argo controller does) and the
// gRPC client (tests/grpc-client). They differ in transport and types; the
// measurement of the plugin process (from /proc) and the concurrency
// harnesses are the same and live here.
//
// The test builders put this directory on GOPATH as canarygate/gopeer
// (tests/support/gohost.rs, scripts/bench-wire).
package gopeer

import (
	"fmt"
	"io/ioutil"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ClkTck is USER_HZ, the unit of utime/stime in /proc/PID/stat (100 on Linux).
const ClkTck = 100

// ProcStatus reads one numeric field (e.g. VmRSS, VmHWM, in KiB) of
// /proc/PID/status.
func ProcStatus(pid int, key string) (int, error) {
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

// CPUTicks is utime+stime of pid (fields 14 and 15 of /proc/PID/stat), in
// ClkTck units.
func CPUTicks(pid int) (int, error) {
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

// CPUNanos is the CPU time of every thread of pid, in ns, summed from
// /proc/PID/task/*/schedstat (first field). utime+stime come in 10 ms ticks,
// too coarse for calls costing tens of microseconds; both are reported.
func CPUNanos(pid int) (int64, error) {
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

// MeasureLoad makes `runs` calls of call, `concurrency` at a time, and
// reports the plugin process's CPU per call (schedstat ns, and 10 ms ticks),
// the wall time per call and the peak RSS. The first call error stops the
// report.
func MeasureLoad(pid, runs, concurrency int, call func() error) (map[string]interface{}, error) {
	cpu0, _ := CPUTicks(pid)
	ns0, _ := CPUNanos(pid)
	t0 := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if err := call(); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < runs; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	wall := time.Since(t0)
	if firstErr != nil {
		return nil, firstErr
	}
	cpu1, _ := CPUTicks(pid)
	ns1, _ := CPUNanos(pid)
	hwm, _ := ProcStatus(pid, "VmHWM")
	return map[string]interface{}{
		"runs": runs, "concurrency": concurrency, "peak_rss_kib": hwm,
		"cpu_us_per_run":       float64(ns1-ns0) / 1e3 / float64(runs),
		"cpu_us_per_run_ticks": float64(cpu1-cpu0) * (1e6 / ClkTck) / float64(runs),
		"wall_us_per_run":      float64(wall.Microseconds()) / float64(runs),
	}, nil
}

// Parallel runs f(0..n-1) at once and returns the first error, or an error
// when they have not all finished within limit.
func Parallel(n int, limit time.Duration, f func(i int) error) error {
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- f(i)
		}(i)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		return fmt.Errorf("%d concurrent calls did not all finish within %v", n, limit)
	}
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Scenario is a named end-to-end check of a peer.
type Scenario struct {
	Name string
	Run  func() error
}

// RunScenarios runs the scenario called name, or all of them for "all",
// printing one line per scenario; the first failure stops the run.
func RunScenarios(name string, list []Scenario) error {
	ran := false
	for _, s := range list {
		if name != "all" && name != s.Name {
			continue
		}
		ran = true
		t0 := time.Now()
		if err := s.Run(); err != nil {
			return fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		fmt.Printf("ok   %-15s %v\n", s.Name, time.Since(t0).Round(time.Millisecond))
	}
	if !ran {
		return fmt.Errorf("unknown scenario %q", name)
	}
	return nil
}

// Report prints the outcome the Rust tests read (`PASS` as the last line,
// or `FAIL: …` and exit status 1).
func Report(err error) {
	if err != nil {
		fmt.Printf("FAIL: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("PASS")
}
