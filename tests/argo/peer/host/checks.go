package host

// Assertions on the Measurements that come back through argo's
// rpc.MetricsPluginRPC (metricproviders/plugin/rpc/rpc.go@v1.9.1): a
// transport failure there becomes an Error Measurement whose message says
// "Run rpc call error", and an Error the plugin reports gets the prefix
// "failed to run via plugin: ". So an expected Error phase is only accepted
// with that prefix.

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var completed = map[v1alpha1.AnalysisPhase]bool{
	v1alpha1.AnalysisPhaseSuccessful:   true,
	v1alpha1.AnalysisPhaseFailed:       true,
	v1alpha1.AnalysisPhaseError:        true,
	v1alpha1.AnalysisPhaseInconclusive: true,
}

// pluginErrorPrefix is what argo's MetricsPluginRPC.Run puts before the
// message of an Error measurement the plugin returned.
const pluginErrorPrefix = "failed to run via plugin: "

// slack covers clock reads on both sides of the wire (same clock, different processes).
const slack = time.Millisecond

func within(t time.Time, before, after time.Time) bool {
	return !t.Before(before.Add(-slack)) && !t.After(after.Add(slack))
}

// checkMeasurement asserts a completed measurement field by field.
func checkMeasurement(what string, m v1alpha1.Measurement, before, after time.Time, o options) error {
	if strings.Contains(m.Message, "rpc call error") {
		return fmt.Errorf("%s: transport failure in argo's client: %q", what, m.Message)
	}
	if !completed[m.Phase] {
		return fmt.Errorf("%s: Phase %q is not a completed phase", what, m.Phase)
	}
	if m.Phase == v1alpha1.AnalysisPhaseError && !strings.HasPrefix(m.Message, pluginErrorPrefix) {
		return fmt.Errorf("%s: Error measurement without argo's %q prefix: %q", what, pluginErrorPrefix, m.Message)
	}
	if m.FinishedAt == nil || !within(m.FinishedAt.Time, before, after) {
		return fmt.Errorf("%s: FinishedAt %v not within the call window [%v, %v]", what, m.FinishedAt, before, after)
	}
	if m.StartedAt == nil || !within(m.StartedAt.Time, before, after) {
		return fmt.Errorf("%s: StartedAt %v not within the call window [%v, %v]", what, m.StartedAt, before, after)
	}
	if m.StartedAt.After(m.FinishedAt.Time) {
		return fmt.Errorf("%s: StartedAt %v after FinishedAt %v", what, m.StartedAt, m.FinishedAt)
	}
	if m.ResumeAt != nil {
		return fmt.Errorf("%s: ResumeAt set on a completed measurement: %v", what, m.ResumeAt)
	}
	if o.expectPhase != "" && string(m.Phase) != o.expectPhase {
		return fmt.Errorf("%s: Phase %q, want %q (message %q)", what, m.Phase, o.expectPhase, m.Message)
	}
	if o.expectValue != "" && m.Value != o.expectValue {
		return fmt.Errorf("%s: Value %q, want %q", what, m.Value, o.expectValue)
	}
	if o.expectMsg != "" && !strings.Contains(m.Message, o.expectMsg) {
		return fmt.Errorf("%s: Message %q does not contain %q", what, m.Message, o.expectMsg)
	}
	return nil
}

// sameMeasurement compares two measurements field by field, times as instants.
func sameMeasurement(got, want v1alpha1.Measurement) error {
	if got.Phase != want.Phase || got.Message != want.Message || got.Value != want.Value {
		return fmt.Errorf("got {%q %q %q}, want {%q %q %q}", got.Phase, got.Message, got.Value, want.Phase, want.Message, want.Value)
	}
	if !reflect.DeepEqual(got.Metadata, want.Metadata) {
		return fmt.Errorf("Metadata %v, want %v", got.Metadata, want.Metadata)
	}
	times := []struct {
		name      string
		got, want *metav1.Time
	}{{"StartedAt", got.StartedAt, want.StartedAt}, {"FinishedAt", got.FinishedAt, want.FinishedAt}, {"ResumeAt", got.ResumeAt, want.ResumeAt}}
	for _, t := range times {
		if (t.got == nil) != (t.want == nil) || (t.got != nil && !t.got.Time.Equal(t.want.Time)) {
			return fmt.Errorf("%s %v, want %v", t.name, t.got, t.want)
		}
	}
	return nil
}
