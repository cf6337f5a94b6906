package grpcpeer

// The AnalysisRun and Metric the scenarios send, built from argo's own
// v1alpha1 types and marshalled with encoding/json: the Kubernetes JSON form
// that the gRPC contract carries (proto/canarygate/metricprovider/v1).

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// defaultConfig is a valid error-rate config against a closed loopback port,
// so every Run goes through the whole check path and ends in the same Error.
const defaultConfig = `{"address":"http://127.0.0.1:9","check":"error-rate","namespace":"hotrod","podTemplateHash":"6d4f8b9c7","maxErrorRatio":0.05}`

// sampleMetric is a plugin metric as argo hands it over.
func sampleMetric(name, pluginName string, config []byte) v1alpha1.Metric {
	count, limit := intstr.FromInt32(5), intstr.FromString("20%")
	return v1alpha1.Metric{
		Name:             name,
		Interval:         "30s",
		Count:            &count,
		SuccessCondition: "result[0] >= 0.95",
		FailureLimit:     &limit,
		Provider: v1alpha1.MetricProvider{
			Plugin: map[string]json.RawMessage{pluginName: json.RawMessage(config)},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// sampleRun is an AnalysisRun with `prior` earlier measurements and an
// annotation of `annotationBytes` bytes (0 for none).
func sampleRun(m v1alpha1.Metric, prior int, annotationBytes int) *v1alpha1.AnalysisRun {
	created := time.Date(2026, 11, 21, 5, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { return ptr(metav1.NewTime(created.Add(d))) }
	annotations := map[string]string{"rollout.argoproj.io/revision": "7"}
	if annotationBytes > 0 {
		annotations["example.com/huge"] = strings.Repeat("x", annotationBytes)
	}
	result := v1alpha1.MetricResult{Name: m.Name, Phase: v1alpha1.AnalysisPhaseRunning,
		Count: int32(prior), Successful: int32(prior)}
	for i := 0; i < prior; i++ {
		start := time.Duration(i) * 30 * time.Second
		result.Measurements = append(result.Measurements, v1alpha1.Measurement{
			Phase: v1alpha1.AnalysisPhaseSuccessful, StartedAt: at(start),
			FinishedAt: at(start + 40*time.Millisecond),
			Value:      fmt.Sprintf("[0.%04d]", 100+i),
			Metadata:   map[string]string{"query": `sum(rate(http_requests_total{service="frontend",code=~"5.."}[1m]))`},
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
				Controller: ptr(true), BlockOwnerDeletion: ptr(true)}},
			ManagedFields: []metav1.ManagedFieldsEntry{
				{Manager: "rollouts-controller", Operation: metav1.ManagedFieldsOperationUpdate,
					APIVersion: "argoproj.io/v1alpha1", Time: at(0), FieldsType: "FieldsV1",
					FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{".":{},"f:app.kubernetes.io/name":{}}},"f:spec":{"f:metrics":{}}}`)}},
				{Manager: "rollouts-controller", Operation: metav1.ManagedFieldsOperationUpdate,
					APIVersion: "argoproj.io/v1alpha1", Time: at(time.Minute), FieldsType: "FieldsV1",
					FieldsV1:    &metav1.FieldsV1{Raw: []byte(`{"f:status":{".":{},"f:metricResults":{},"f:phase":{}}}`)},
					Subresource: "status"},
			},
		},
		Spec: v1alpha1.AnalysisRunSpec{
			Metrics: []v1alpha1.Metric{m},
			Args: []v1alpha1.Argument{{Name: "service", Value: ptr("frontend")},
				{Name: "canary-hash", Value: ptr("7d9c6b5f4")}},
		},
		Status: v1alpha1.AnalysisRunStatus{
			Phase:         v1alpha1.AnalysisPhaseRunning,
			MetricResults: []v1alpha1.MetricResult{result},
			StartedAt:     at(0),
			RunSummary:    v1alpha1.RunSummary{Count: 1},
		},
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
