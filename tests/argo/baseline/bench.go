package main

// The bench mode: `metric-baseline bench -plugin PATH ...` plays the Argo
// controller with Argo's own plugin client (metricproviders/plugin/rpc over
// hashicorp go-plugin, started as exec.Command(path) like the controller
// does), makes N Runs at concurrency C, and prints one JSON line with the
// plugin process's CPU per Run (utime+stime from /proc) and its peak RSS
// (VmHWM). Run it once per plugin, with the same config, in one go.

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	goPlugin "github.com/hashicorp/go-plugin"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
)

func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndex(s, ")")+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil // USER_HZ = 100
}

func procStatusKiB(pid int, key string) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, key+":") {
			v, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return v
		}
	}
	return -1
}

func benchRun(cfg []byte) (*v1alpha1.AnalysisRun, v1alpha1.Metric) {
	count := intstr.FromInt(5)
	m := v1alpha1.Metric{
		Name: "error-rate", Interval: "30s", Count: &count,
		SuccessCondition: "result[0] >= 0.95",
		Provider:         v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"canary-gate/prometheus": cfg}},
	}
	labels := map[string]string{}
	for i := 0; i < 20; i++ {
		labels[fmt.Sprintf("label-%02d", i)] = strings.Repeat("v", 40)
	}
	ar := &v1alpha1.AnalysisRun{
		ObjectMeta: metav1.ObjectMeta{Name: "checkout-6d4f8b9c7-2-error-rate", Namespace: "hotrod", Labels: labels, Annotations: labels},
		Spec:       v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{m}},
	}
	now := metav1.Now()
	var ms []v1alpha1.Measurement
	for i := 0; i < 10; i++ {
		ms = append(ms, v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: "[0.0123]", StartedAt: &now, FinishedAt: &now,
			Metadata: map[string]string{"query": strings.Repeat("q", 200)}})
	}
	ar.Status.MetricResults = []v1alpha1.MetricResult{{Name: m.Name, Phase: v1alpha1.AnalysisPhaseRunning, Measurements: ms}}
	return ar, m
}

func bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	plugin := fs.String("plugin", "", "plugin binary")
	runs := fs.Int("runs", 2000, "Runs")
	conc := fs.Int("concurrency", 16, "concurrent Runs")
	config := fs.String("config", "", "plugin config JSON file")
	_ = fs.Parse(args)
	cfg, err := os.ReadFile(*config)
	if err != nil {
		return err
	}
	client := goPlugin.NewClient(&goPlugin.ClientConfig{
		HandshakeConfig: handshakeConfig,
		Plugins:         map[string]goPlugin.Plugin{"RpcMetricProviderPlugin": &rpc.RpcMetricProviderPlugin{}},
		Cmd:             exec.Command(*plugin),
		Managed:         true,
	})
	defer client.Kill()
	rpcClient, err := client.Client()
	if err != nil {
		return err
	}
	raw, err := rpcClient.Dispense("RpcMetricProviderPlugin")
	if err != nil {
		return err
	}
	p := raw.(rpc.MetricProviderPlugin)
	if e := p.InitPlugin(); e.HasError() {
		return e
	}
	pid := client.ReattachConfig().Pid
	ar, m := benchRun(cfg)
	first := p.Run(ar, m)
	time.Sleep(200 * time.Millisecond)
	idle := procStatusKiB(pid, "VmRSS")
	cpu0, err := procCPU(pid)
	if err != nil {
		return err
	}
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan struct{}, *runs)
	for i := 0; i < *runs; i++ {
		next <- struct{}{}
	}
	close(next)
	phases := sync.Map{}
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				r := p.Run(ar, m)
				n, _ := phases.LoadOrStore(string(r.Phase), new(int64))
				*(n.(*int64))++
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	cpu1, _ := procCPU(pid)
	counts := map[string]int64{}
	phases.Range(func(k, v any) bool { counts[k.(string)] = *(v.(*int64)); return true })
	out, _ := json.Marshal(map[string]any{
		"runs": *runs, "concurrency": *conc,
		"cpu_us_per_run":  float64((cpu1 - cpu0).Microseconds()) / float64(*runs),
		"wall_us_per_run": float64(wall.Microseconds()) / float64(*runs),
		"idle_rss_kib":    idle, "peak_rss_kib": procStatusKiB(pid, "VmHWM"),
		"first_phase": first.Phase, "first_message": first.Message, "first_value": first.Value,
		"phases": counts,
	})
	fmt.Println(string(out))
	return nil
}
