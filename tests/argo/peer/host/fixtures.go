package host

// Realistic arguments, in argo's own types: what a controller sends for a
// canary analysis with one plugin metric, earlier measurements, labels and
// server-side-apply managedFields.

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// defaultConfig is a valid canary-gate config whose Prometheus address is a
// closed loopback port: every Run takes the whole check path and ends in a
// deterministic Error measurement (connection refused), with no network.
const defaultConfig = `{"address":"http://127.0.0.1:9","check":"error-rate","namespace":"hotrod","podTemplateHash":"6d4f8b9c7","maxErrorRatio":0.05}`

func strp(v string) *string { return &v }
func boolp(v bool) *bool    { return &v }

func timep(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t)
	return &mt
}

// sampleMetric is a plugin metric as argo hands it over: plugin config as raw JSON.
func sampleMetric(name, pluginName string, config []byte) v1alpha1.Metric {
	count := intstr.FromInt32(5)
	limit := intstr.FromString("20%")
	return v1alpha1.Metric{
		Name:             name,
		Interval:         "30s",
		Count:            &count,
		SuccessCondition: "result[0] >= 0.95",
		FailureLimit:     &limit,
		Provider: v1alpha1.MetricProvider{
			Plugin: map[string]json.RawMessage{pluginName: config},
		},
	}
}

func sampleManagedFields(created time.Time, fieldsPad int) []metav1.ManagedFieldsEntry {
	raw := []byte(`{"f:metadata":{"f:labels":{".":{},"f:app.kubernetes.io/name":{}}},"f:spec":{"f:metrics":{}}}`)
	if fieldsPad > 0 {
		raw = append(raw[:len(raw)-1], []byte(fmt.Sprintf(`,"f:pad":%q}`, strings.Repeat("p", fieldsPad)))...)
	}
	return []metav1.ManagedFieldsEntry{
		{Manager: "rollouts-controller", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "argoproj.io/v1alpha1",
			Time: timep(created), FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: raw}},
		{Manager: "rollouts-controller", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "argoproj.io/v1alpha1",
			Time: timep(created.Add(time.Minute)), FieldsType: "FieldsV1",
			FieldsV1:    &metav1.FieldsV1{Raw: []byte(`{"f:status":{".":{},"f:metricResults":{},"f:phase":{}}}`)},
			Subresource: "status"},
	}
}

// sampleRun builds an AnalysisRun with `prior` earlier measurements, an
// annotation of `annotationBytes` bytes (0 for none) and managedFields padded
// by fieldsPad bytes.
func sampleRun(m v1alpha1.Metric, prior int, annotationBytes int, fieldsPad int) *v1alpha1.AnalysisRun {
	created := time.Date(2026, 11, 21, 5, 0, 0, 123456789, time.Local)
	annotations := map[string]string{"rollout.argoproj.io/revision": "7"}
	if annotationBytes > 0 {
		annotations["example.com/huge"] = strings.Repeat("x", annotationBytes)
	}
	var measurements []v1alpha1.Measurement
	for i := 0; i < prior; i++ {
		start := created.Add(time.Duration(i) * 30 * time.Second)
		measurements = append(measurements, v1alpha1.Measurement{
			Phase: v1alpha1.AnalysisPhaseSuccessful, StartedAt: timep(start), FinishedAt: timep(start.Add(40 * time.Millisecond)),
			Value:    fmt.Sprintf("[0.%04d]", 100+i),
			Metadata: map[string]string{"query": `sum(rate(http_requests_total{service="frontend",code=~"5.."}[1m]))`},
		})
	}
	return &v1alpha1.AnalysisRun{
		TypeMeta: metav1.TypeMeta{Kind: "AnalysisRun", APIVersion: "argoproj.io/v1alpha1"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "hotrod-frontend-7d9c6b5f4-2", Namespace: "hotrod",
			UID: "0b7f3c2e-6a55-4c1d-9d8e-3f1f2a6b7c8d", ResourceVersion: "184467", Generation: 1,
			CreationTimestamp: metav1.NewTime(created),
			Labels: map[string]string{
				"app.kubernetes.io/name":       "hotrod-frontend",
				"app.kubernetes.io/part-of":    "hotrod",
				"rollouts-pod-template-hash":   "7d9c6b5f4",
				"rollout-type":                 "Step",
				"step-index":                   "2",
				"app.kubernetes.io/managed-by": "argo-rollouts",
			},
			Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout",
				Name: "hotrod-frontend", UID: "5c0d8e1a-2b3c-4d5e-8f90-a1b2c3d4e5f6",
				Controller: boolp(true), BlockOwnerDeletion: boolp(true)}},
			ManagedFields: sampleManagedFields(created, fieldsPad),
		},
		Spec: v1alpha1.AnalysisRunSpec{
			Metrics: []v1alpha1.Metric{m},
			Args: []v1alpha1.Argument{{Name: "service", Value: strp("frontend")},
				{Name: "canary-hash", Value: strp("7d9c6b5f4")}},
		},
		Status: v1alpha1.AnalysisRunStatus{
			Phase: v1alpha1.AnalysisPhaseRunning,
			MetricResults: []v1alpha1.MetricResult{{Name: m.Name, Phase: v1alpha1.AnalysisPhaseRunning,
				Measurements: measurements, Count: int32(prior), Successful: int32(prior)}},
			StartedAt:  timep(created),
			RunSummary: v1alpha1.RunSummary{Count: 1},
		},
	}
}

// gobValueSize is the gob size of argo's Run arguments once their types are
// known to the stream (what every Run after the first costs on the wire);
// argo's MetricsPluginRPC.Run sends them as a pointer to an `any`.
func gobValueSize(ar *v1alpha1.AnalysisRun, m v1alpha1.Metric) int {
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	var args any = rpc.RunArgs{AnalysisRun: ar, Metric: m}
	_ = enc.Encode(&args)
	first := buf.Len()
	_ = enc.Encode(&args)
	return buf.Len() - first
}

// benchRun is an AnalysisRun of about `kb` KiB of gob with 10 prior measurements.
func benchRun(m v1alpha1.Metric, kb int) *v1alpha1.AnalysisRun {
	ar := sampleRun(m, 10, 0, 0)
	if pad := kb*1024 - gobValueSize(ar, m); pad > 0 {
		ar = sampleRun(m, 10, 0, pad)
	}
	return ar
}
