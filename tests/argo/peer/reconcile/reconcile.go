// Package reconcile is the `reconcile` subcommand of the argo peer: the proof
// that a rollout progresses or stops on canary-gate's verdicts. It runs Argo
// Rollouts' own AnalysisRun reconciler (analysis.NewController + Run, wired
// with fake clientsets as in analysis/controller_test.go@v1.9.1), which loads
// canary-gate through argo's real plugin path (package loader: ConfigMap →
// InitializeConfig → DownloadPlugins → metricproviders/plugin/client).
//
// The AnalysisRuns come from the shipped plugin-config/analysis-template.yaml,
// parsed into argo's v1alpha1.AnalysisTemplate and turned into runs with
// argo's utils/analysis.NewAnalysisRunFromTemplates. Overridden for test
// speed or environment only: each metric's initialDelay and interval are
// divided by -speedup, and its plugin `address` is the scenario's Prometheus.
// Counts, limits and the checks' configuration are the shipped ones. Argo's
// retry interval after an Error measurement (DefaultErrorRetryInterval, 10 s)
// is a constant and stays. A scenario may instead carry a whole AnalysisRun
// that argo's rollout controller made (the steprun subcommand), which is
// reconciled as given (tests/argo_presets.rs).
//
// Input (stdin): a JSON array of scenarios (see type scenario). All runs are
// reconciled at once by one controller with one worker per run.
// Output (stdout): per run, as it completes, a line `RESULT {json}` (type
// runOut) and a readable line; then the peer's PASS, or FAIL when a run did
// not complete within -timeout. The verdicts are judged by the caller
// (tests/argo_reconcile.rs, tests/argo_presets.rs).
package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/argoproj/argo-rollouts/analysis"
	"github.com/argoproj/argo-rollouts/controller/metrics"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/pkg/client/clientset/versioned/fake"
	informers "github.com/argoproj/argo-rollouts/pkg/client/informers/externalversions"
	argoqueue "github.com/argoproj/argo-rollouts/utils/queue"
	"github.com/argoproj/argo-rollouts/utils/record"
	goPlugin "github.com/hashicorp/go-plugin"
	log "github.com/sirupsen/logrus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/workqueue"

	"canarygate/argopeer"
	"canarygate/argopeer/loader"
)

// pluginName is the name the shipped template uses for canary-gate.
const pluginName = "canary-gate/prometheus"

func init() {
	argopeer.Register("reconcile", argopeer.Command{
		Summary: "reconcile AnalysisRuns of the shipped template with argo's analysis controller (scenarios on stdin)",
		Run:     run,
	})
}

type options struct {
	template, plugin, dir string
	speedup               int
	timeout               time.Duration
	verbose               bool
}

func run(args []string) error {
	var o options
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.StringVar(&o.template, "template", "", "the AnalysisTemplate YAML (plugin-config/analysis-template.yaml); needed by scenarios without a run")
	fs.StringVar(&o.plugin, "plugin", "", "the canary-gate binary")
	fs.StringVar(&o.dir, "dir", "", "working directory for argo's plugin-bin/ (created)")
	fs.IntVar(&o.speedup, "speedup", 10, "divide every initialDelay and interval by this")
	fs.DurationVar(&o.timeout, "timeout", 150*time.Second, "give up on runs not completed by then")
	fs.BoolVar(&o.verbose, "v", false, "log argo's controller at info level")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.plugin == "" || o.dir == "" || o.speedup < 1 {
		return errors.New("reconcile needs -plugin, -dir (and -speedup >= 1)")
	}
	log.SetLevel(log.WarnLevel)
	if o.verbose {
		log.SetLevel(log.InfoLevel)
	}
	body, err := io.ReadAll(os.Stdin)
	if err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	var scenarios []scenario
	if err := json.Unmarshal(body, &scenarios); err != nil {
		return fmt.Errorf("stdin is not a JSON array of scenarios: %w", err)
	}
	if len(scenarios) == 0 {
		return errors.New("no scenarios on stdin")
	}
	// Parsed before loader.Install changes the working directory.
	var template *v1alpha1.AnalysisTemplate
	if o.template != "" {
		if template, err = LoadTemplate(o.template); err != nil {
			return err
		}
	}
	runs := make([]*v1alpha1.AnalysisRun, len(scenarios))
	for i, s := range scenarios {
		if runs[i], err = newRun(template, s, o.speedup); err != nil {
			return fmt.Errorf("scenario %s: %w", s.Name, err)
		}
	}
	kube, err := loader.Install(o.dir, pluginName, o.plugin)
	if err != nil {
		return err
	}
	// Managed go-plugin clients: stop the plugin process on the way out.
	defer goPlugin.CleanupClients()
	return reconcileAll(kube, scenarios, runs, o.timeout)
}

// newController wires argo's analysis controller as controller/controller.go
// does, with fake clientsets (analysis/controller_test.go@v1.9.1).
func newController(kube kubernetes.Interface, argo *fake.Clientset, queue workqueue.RateLimitingInterface) (*analysis.Controller, informers.SharedInformerFactory, kubeinformers.SharedInformerFactory) {
	argoInformers := informers.NewSharedInformerFactory(argo, 0)
	kubeInformers := kubeinformers.NewSharedInformerFactory(kube, 0)
	cfg := analysis.ControllerConfig{
		KubeClientSet:        kube,
		ArgoProjClientset:    argo,
		AnalysisRunInformer:  argoInformers.Argoproj().V1alpha1().AnalysisRuns(),
		JobInformer:          kubeInformers.Batch().V1().Jobs(),
		ResyncPeriod:         0,
		AnalysisRunWorkQueue: queue,
		MetricsServer: metrics.NewMetricsServer(metrics.ServerConfig{
			Addr:               "127.0.0.1:0",
			K8SRequestProvider: &metrics.K8sRequestsCountProvider{},
		}),
		Recorder: record.NewFakeEventRecorder(),
	}
	// v1.10 added ControllerConfig.JobPodsInformer (analysis/controller.go@v1.10.0)
	// and dereferences it; v1.9 has no such field. Set it where it exists.
	if f := reflect.ValueOf(&cfg).Elem().FieldByName("JobPodsInformer"); f.IsValid() {
		f.Set(reflect.ValueOf(kubeInformers.Core().V1().Pods()))
	}
	return analysis.NewController(cfg), argoInformers, kubeInformers
}

// reconcileAll creates the runs, lets the controller reconcile them, and
// prints each run's outcome as it completes.
func reconcileAll(kube kubernetes.Interface, scenarios []scenario, runs []*v1alpha1.AnalysisRun, timeout time.Duration) error {
	argo := fake.NewSimpleClientset()
	queue := workqueue.NewNamedRateLimitingQueue(argoqueue.DefaultArgoRolloutsRateLimiter(), "AnalysisRuns")
	controller, argoInformers, kubeInformers := newController(kube, argo, queue)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	argoInformers.Start(ctx.Done())
	kubeInformers.Start(ctx.Done())
	argoInformers.WaitForCacheSync(ctx.Done())
	kubeInformers.WaitForCacheSync(ctx.Done())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = controller.Run(ctx, len(runs))
	}()
	// Run returns once its workers do, and they return only when the queue
	// shuts down (controller/controller.go@v1.9.1 does both on exit).
	defer func() { cancel(); queue.ShutDown(); <-stopped }()

	start := time.Now()
	for _, r := range runs {
		if _, err := argo.ArgoprojV1alpha1().AnalysisRuns(r.Namespace).Create(ctx, r, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create AnalysisRun %s: %w", r.Name, err)
		}
	}
	done := make([]bool, len(runs))
	remaining := len(runs)
	deadline := time.Now().Add(timeout)
	for remaining > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d run(s) not completed after %v: %s", remaining, timeout, pending(argo, scenarios, runs, done))
		}
		time.Sleep(200 * time.Millisecond)
		for i, r := range runs {
			if done[i] {
				continue
			}
			got, err := argo.ArgoprojV1alpha1().AnalysisRuns(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("get AnalysisRun %s: %w", r.Name, err)
			}
			if !got.Status.Phase.Completed() {
				continue
			}
			done[i] = true
			remaining--
			if err := report(summarize(scenarios[i], got, time.Since(start))); err != nil {
				return err
			}
		}
	}
	return nil
}

// report prints one run's RESULT line and a readable summary.
func report(out runOut) error {
	line, err := json.Marshal(out)
	if err != nil {
		return err
	}
	fmt.Printf("RESULT %s\n", line)
	fmt.Printf("%-10s %-12s after %4.1fs  %s\n", out.Scenario, out.Phase, out.Seconds, out.Message)
	for _, m := range out.Metrics {
		fmt.Printf("    %-24s %-12s count=%d kept=%d last=%s %q\n", m.Name, m.Phase, m.Count, m.Measurements, m.LastPhase, m.LastMessage)
	}
	return nil
}

// pending describes the runs still running, for the timeout message.
func pending(argo *fake.Clientset, scenarios []scenario, runs []*v1alpha1.AnalysisRun, done []bool) string {
	var parts []string
	for i, r := range runs {
		if done[i] {
			continue
		}
		got, err := argo.ArgoprojV1alpha1().AnalysisRuns(r.Namespace).Get(context.Background(), r.Name, metav1.GetOptions{})
		if err != nil {
			parts = append(parts, fmt.Sprintf("%s: %v", r.Name, err))
			continue
		}
		s := summarize(scenarios[i], got, 0)
		var ms []string
		for _, m := range s.Metrics {
			ms = append(ms, fmt.Sprintf("%s %s count=%d last=%s %q", m.Name, m.Phase, m.Count, m.LastPhase, m.LastMessage))
		}
		sort.Strings(ms)
		parts = append(parts, fmt.Sprintf("%s phase=%q [%s]", r.Name, s.Phase, strings.Join(ms, "; ")))
	}
	return strings.Join(parts, " | ")
}
