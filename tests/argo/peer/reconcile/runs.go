package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	analysisutil "github.com/argoproj/argo-rollouts/utils/analysis"
	"sigs.k8s.io/yaml"
)

// scenario is one AnalysisRun to reconcile (one element of the stdin array).
type scenario struct {
	// Name names the AnalysisRun.
	Name string `json:"name"`
	// Hash and Namespace are the template's args canary-hash and namespace.
	Hash      string `json:"hash"`
	Namespace string `json:"namespace"`
	// Address replaces every metric's plugin `address` (the shipped template
	// has no arg for it).
	Address string `json:"address"`
	// Retention, when > 0, is the run's measurementRetention limit for every
	// metric (metricName ".*").
	Retention int32 `json:"retention,omitempty"`
	// Run, when set, is an AnalysisRun that argo made (the steprun
	// subcommand's output), reconciled as given: the template, Hash,
	// Namespace, Address, Retention and -speedup do not apply to it.
	Run *v1alpha1.AnalysisRun `json:"run,omitempty"`
}

// metricOut is one metric's result in the output line.
type metricOut struct {
	Name         string `json:"name"`
	Phase        string `json:"phase"`
	Message      string `json:"message"`
	Count        int32  `json:"count"`
	Successful   int32  `json:"successful"`
	Failed       int32  `json:"failed"`
	Inconclusive int32  `json:"inconclusive"`
	Error        int32  `json:"error"`
	// Measurements is how many Measurements the status still holds (after
	// argo's trimming, which follows a successful GarbageCollect).
	Measurements int `json:"measurements"`
	// Last is the last Measurement's phase and message.
	LastPhase   string `json:"lastPhase"`
	LastMessage string `json:"lastMessage"`
}

// runOut is the output line of one scenario.
type runOut struct {
	Scenario string      `json:"scenario"`
	Phase    string      `json:"phase"`
	Message  string      `json:"message"`
	Seconds  float64     `json:"seconds"`
	Metrics  []metricOut `json:"metrics"`
}

// LoadTemplate parses an AnalysisTemplate file (YAML or JSON) into argo's
// own type, refusing fields argo's type does not have.
func LoadTemplate(path string) (*v1alpha1.AnalysisTemplate, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t v1alpha1.AnalysisTemplate
	if err := yaml.UnmarshalStrict(body, &t); err != nil {
		return nil, fmt.Errorf("%s does not parse as argo's AnalysisTemplate: %w", path, err)
	}
	if len(t.Spec.Metrics) == 0 {
		return nil, fmt.Errorf("%s has no metrics", path)
	}
	return &t, nil
}

// speedUp divides a metric's initialDelay and interval by factor. Counts,
// limits and the plugin's check configuration are left as shipped.
func speedUp(m *v1alpha1.Metric, factor int) error {
	for _, d := range []*v1alpha1.DurationString{&m.InitialDelay, &m.Interval} {
		if *d == "" {
			continue
		}
		parsed, err := d.Duration()
		if err != nil {
			return fmt.Errorf("metric %s: %w", m.Name, err)
		}
		*d = v1alpha1.DurationString((parsed / time.Duration(factor)).String())
	}
	return nil
}

// withAddress sets `address` in every plugin configuration of m.
func withAddress(m *v1alpha1.Metric, address string) error {
	if len(m.Provider.Plugin) == 0 {
		return fmt.Errorf("metric %s has no plugin provider", m.Name)
	}
	for name, raw := range m.Provider.Plugin {
		var cfg map[string]any
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return fmt.Errorf("metric %s plugin %s config: %w", m.Name, name, err)
		}
		cfg["address"] = address
		out, err := json.Marshal(cfg)
		if err != nil {
			return err
		}
		m.Provider.Plugin[name] = out
	}
	return nil
}

// newRun builds the AnalysisRun of s from the template the way the rollout
// controller does: argo's utils/analysis.NewAnalysisRunFromTemplates merges
// the args and the measurementRetention into the run.
func newRun(t *v1alpha1.AnalysisTemplate, s scenario, factor int) (*v1alpha1.AnalysisRun, error) {
	if s.Run != nil {
		return s.Run.DeepCopy(), nil
	}
	if t == nil {
		return nil, errors.New("no -template for a scenario without a run")
	}
	t = t.DeepCopy()
	for i := range t.Spec.Metrics {
		if err := speedUp(&t.Spec.Metrics[i], factor); err != nil {
			return nil, err
		}
		if err := withAddress(&t.Spec.Metrics[i], s.Address); err != nil {
			return nil, err
		}
	}
	args := []v1alpha1.Argument{
		{Name: "namespace", Value: &s.Namespace},
		{Name: "canary-hash", Value: &s.Hash},
	}
	var retention []v1alpha1.MeasurementRetention
	if s.Retention > 0 {
		retention = []v1alpha1.MeasurementRetention{{MetricName: ".*", Limit: s.Retention}}
	}
	return analysisutil.NewAnalysisRunFromTemplates(
		[]*v1alpha1.AnalysisTemplate{t}, nil, args, nil, retention,
		map[string]string{"canary-gate/scenario": s.Name}, nil,
		s.Name, "", s.Namespace)
}

// summarize is the output line of a run.
func summarize(s scenario, run *v1alpha1.AnalysisRun, took time.Duration) runOut {
	out := runOut{
		Scenario: s.Name,
		Phase:    string(run.Status.Phase),
		Message:  run.Status.Message,
		Seconds:  took.Round(100 * time.Millisecond).Seconds(),
		Metrics:  []metricOut{},
	}
	for _, r := range run.Status.MetricResults {
		m := metricOut{
			Name: r.Name, Phase: string(r.Phase), Message: r.Message,
			Count: r.Count, Successful: r.Successful, Failed: r.Failed,
			Inconclusive: r.Inconclusive, Error: r.Error,
			Measurements: len(r.Measurements),
		}
		if n := len(r.Measurements); n > 0 {
			m.LastPhase = string(r.Measurements[n-1].Phase)
			m.LastMessage = r.Measurements[n-1].Message
		}
		out.Metrics = append(out.Metrics, m)
	}
	return out
}
