package main

// Realistic arguments: what a controller sends for a canary analysis with one
// plugin metric, earlier measurements, labels and server-side-apply
// managedFields.

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"strings"
	"time"
)

func int64p(v int64) *int64 { return &v }
func strp(v string) *string { return &v }
func boolp(v bool) *bool    { return &v }

func timep(t time.Time) *Time { return &Time{t} }

// sampleMetric is a plugin metric as argo hands it over: plugin config as raw JSON.
func sampleMetric(name, pluginName string, config []byte) Metric {
	return Metric{
		Name:             name,
		Interval:         "30s",
		Count:            &IntOrString{Type: 0, IntVal: 5},
		SuccessCondition: "result[0] >= 0.95",
		FailureLimit:     &IntOrString{Type: 1, StrVal: "20%"},
		Provider: MetricProvider{
			Plugin: map[string][]byte{pluginName: config},
		},
	}
}

const defaultConfig = `{"address":"http://127.0.0.1:9","check":"error-rate","service":"frontend","max":0.05}`

// sampleRun builds an AnalysisRun with `prior` earlier measurements and an
// annotation of `annotationBytes` bytes (0 for none).
func sampleRun(m Metric, prior int, annotationBytes int, fieldsPad int) *AnalysisRun {
	created := time.Date(2026, 11, 21, 5, 0, 0, 123456789, time.Local)
	labels := map[string]string{
		"app.kubernetes.io/name":       "hotrod-frontend",
		"app.kubernetes.io/part-of":    "hotrod",
		"rollouts-pod-template-hash":   "7d9c6b5f4",
		"rollout-type":                 "Step",
		"step-index":                   "2",
		"app.kubernetes.io/managed-by": "argo-rollouts",
	}
	annotations := map[string]string{"rollout.argoproj.io/revision": "7"}
	if annotationBytes > 0 {
		annotations["example.com/huge"] = strings.Repeat("x", annotationBytes)
	}
	raw := []byte(`{"f:metadata":{"f:labels":{".":{},"f:app.kubernetes.io/name":{}}},"f:spec":{"f:metrics":{}}}`)
	if fieldsPad > 0 {
		raw = append(raw[:len(raw)-1], []byte(fmt.Sprintf(`,"f:pad":%q}`, strings.Repeat("p", fieldsPad)))...)
	}
	managed := []ManagedFieldsEntry{
		{Manager: "rollouts-controller", Operation: "Update", APIVersion: "argoproj.io/v1alpha1",
			Time: timep(created), FieldsType: "FieldsV1", FieldsV1: &FieldsV1{Raw: raw}},
		{Manager: "rollouts-controller", Operation: "Update", APIVersion: "argoproj.io/v1alpha1",
			Time: timep(created.Add(time.Minute)), FieldsType: "FieldsV1",
			FieldsV1:    &FieldsV1{Raw: []byte(`{"f:status":{".":{},"f:metricResults":{},"f:phase":{}}}`)},
			Subresource: "status"},
	}
	var measurements []Measurement
	for i := 0; i < prior; i++ {
		start := created.Add(time.Duration(i) * 30 * time.Second)
		measurements = append(measurements, Measurement{
			Phase: "Successful", StartedAt: timep(start), FinishedAt: timep(start.Add(40 * time.Millisecond)),
			Value:    fmt.Sprintf("[0.%04d]", 100+i),
			Metadata: map[string]string{"query": `sum(rate(http_requests_total{service="frontend",code=~"5.."}[1m]))`},
		})
	}
	return &AnalysisRun{
		TypeMeta: TypeMeta{Kind: "AnalysisRun", APIVersion: "argoproj.io/v1alpha1"},
		ObjectMeta: ObjectMeta{
			Name: "hotrod-frontend-7d9c6b5f4-2", Namespace: "hotrod",
			UID: "0b7f3c2e-6a55-4c1d-9d8e-3f1f2a6b7c8d", ResourceVersion: "184467", Generation: 1,
			CreationTimestamp: Time{created},
			Labels:            labels, Annotations: annotations,
			OwnerReferences: []OwnerReference{{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout",
				Name: "hotrod-frontend", UID: "5c0d8e1a-2b3c-4d5e-8f90-a1b2c3d4e5f6",
				Controller: boolp(true), BlockOwnerDeletion: boolp(true)}},
			ManagedFields: managed,
		},
		Spec: AnalysisRunSpec{
			Metrics: []Metric{m},
			Args: []Argument{{Name: "service", Value: strp("frontend")},
				{Name: "canary-hash", Value: strp("7d9c6b5f4")}},
		},
		Status: AnalysisRunStatus{
			Phase: "Running",
			MetricResults: []MetricResult{{Name: m.Name, Phase: "Running", Measurements: measurements,
				Count: int64(prior), Successful: int64(prior)}},
			StartedAt:  timep(created),
			RunSummary: RunSummary{Count: 1},
		},
	}
}

// gobValueSize is the gob size of `args` once its types are known to the
// stream (what every Run after the first costs on the wire).
func gobValueSize(ar *AnalysisRun, m Metric) int {
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	var args interface{} = RunArgs{AnalysisRun: ar, Metric: m}
	_ = enc.Encode(&args)
	first := buf.Len()
	_ = enc.Encode(&args)
	return buf.Len() - first
}

// benchRun is an AnalysisRun of about `kb` KiB of gob with 10 prior measurements.
func benchRun(m Metric, kb int) *AnalysisRun {
	ar := sampleRun(m, 10, 0, 0)
	pad := kb*1024 - gobValueSize(ar, m)
	if pad > 0 {
		ar = sampleRun(m, 10, 0, pad)
	}
	return ar
}
