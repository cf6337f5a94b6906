package host

// The plugin process as Linux shows it: argo's client keeps its go-plugin
// client to itself, so the scenarios find the plugin among this process's
// children (/proc/PID/stat, /proc/PID/exe) and its socket in /proc/net/unix,
// and bench measures CPU and memory from /proc as well (proc(5)).

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clkTck is USER_HZ, the unit of utime/stime in /proc/PID/stat.
const clkTck = 100

// statFields are the fields of /proc/PID/stat after the command name:
// f[0] is field 3 (state), f[1] field 4 (ppid).
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || len(s) < i+2 {
		return nil, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	return strings.Fields(s[i+2:]), nil
}

// childRunning is the one live child of this process executing path.
func childRunning(path string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var found []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := statFields(pid)
		if err != nil || len(f) < 2 || f[0] == "Z" || f[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe == path {
			found = append(found, pid)
		}
	}
	if len(found) != 1 {
		return 0, fmt.Errorf("want one running child process %s, found pids %v", path, found)
	}
	return found[0], nil
}

// listeningSocket is the path of the Unix socket pid listens on (flag
// __SO_ACCEPTCON, 0x10000, in /proc/net/unix).
func listeningSocket(pid int) (string, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return "", err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	b, err := os.ReadFile("/proc/net/unix")
	if err != nil {
		return "", err
	}
	var paths []string
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line) // Num RefCount Protocol Flags Type St Inode Path
		if len(f) < 8 || !inodes[f[6]] {
			continue
		}
		if flags, err := strconv.ParseUint(f[3], 16, 32); err == nil && flags&0x10000 != 0 {
			paths = append(paths, f[7])
		}
	}
	if len(paths) != 1 || !filepath.IsAbs(paths[0]) {
		return "", fmt.Errorf("plugin pid %d: want one listening Unix socket, found %q", pid, paths)
	}
	return paths[0], nil
}

// gone reports whether pid has exited (absent, or a zombie nobody reaped yet).
func gone(pid int) bool {
	f, err := statFields(pid)
	return err != nil || (len(f) > 0 && f[0] == "Z")
}

// waitGone waits up to limit for pid to exit.
func waitGone(pid int, limit time.Duration) bool {
	for t0 := time.Now(); time.Since(t0) < limit; time.Sleep(5 * time.Millisecond) {
		if gone(pid) {
			return true
		}
	}
	return gone(pid)
}

// procStatus reads one numeric field (e.g. VmRSS, VmHWM, in KiB) of
// /proc/PID/status.
func procStatus(pid int, key string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
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

// cpuTicks is utime+stime of pid (stat fields 14 and 15), in clkTck units.
func cpuTicks(pid int) (int, error) {
	f, err := statFields(pid)
	if err != nil || len(f) < 13 {
		return 0, fmt.Errorf("bad /proc/%d/stat: %v", pid, err)
	}
	u, err1 := strconv.Atoi(f[11])
	s, err2 := strconv.Atoi(f[12])
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	return u + s, nil
}

// cpuNanos is the CPU time of every thread of pid, in ns, summed from
// /proc/PID/task/*/schedstat (first field). utime+stime come in 10 ms ticks,
// too coarse for calls costing tens of microseconds; both are reported.
func cpuNanos(pid int) (int64, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var total int64
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
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

// measureLoad makes `runs` calls of call, `concurrency` at a time, and
// reports the plugin process's CPU per call (schedstat ns, and 10 ms ticks),
// the wall time per call and the peak RSS. The first call error stops the
// report.
func measureLoad(pid, runs, concurrency int, call func() error) (map[string]any, error) {
	cpu0, _ := cpuTicks(pid)
	ns0, _ := cpuNanos(pid)
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
	cpu1, _ := cpuTicks(pid)
	ns1, _ := cpuNanos(pid)
	hwm, _ := procStatus(pid, "VmHWM")
	return map[string]any{
		"runs": runs, "concurrency": concurrency, "peak_rss_kib": hwm,
		"cpu_us_per_run":       float64(ns1-ns0) / 1e3 / float64(runs),
		"cpu_us_per_run_ticks": float64(cpu1-cpu0) * (1e6 / clkTck) / float64(runs),
		"wall_us_per_run":      float64(wall.Microseconds()) / float64(runs),
	}, nil
}

// parallel runs f(0..n-1) at once and returns the first error, or an error
// when they have not all finished within limit.
func parallel(n int, limit time.Duration, f func(i int) error) error {
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func(i int) { errs <- f(i) }(i)
	}
	deadline := time.After(limit)
	for i := 0; i < n; i++ {
		select {
		case err := <-errs:
			if err != nil {
				return err
			}
		case <-deadline:
			return fmt.Errorf("%d concurrent calls did not all finish within %v", n, limit)
		}
	}
	return nil
}
