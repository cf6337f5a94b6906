package main

// The same AnalysisRun and Metric as the net/rpc interop host
// (tests/interop/fixtures.go: sampleRun, sampleMetric), written here in
// their native Kubernetes JSON form, which is what the gRPC contract carries.

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// defaultConfig is the net/rpc host's: a valid error-rate config against a
// closed loopback port, so every Run ends in a deterministic Error.
const defaultConfig = `{"address":"http://127.0.0.1:9","check":"error-rate","namespace":"hotrod","podTemplateHash":"6d4f8b9c7","maxErrorRatio":0.05}`

type obj = map[string]interface{}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// sampleMetric is a plugin metric as argo hands it over.
func sampleMetric(name, pluginName string, config []byte) obj {
	return obj{
		"name":             name,
		"interval":         "30s",
		"count":            5,
		"successCondition": "result[0] >= 0.95",
		"failureLimit":     "20%",
		"provider":         obj{"plugin": obj{pluginName: json.RawMessage(config)}},
	}
}

// sampleRun builds an AnalysisRun with `prior` earlier measurements and an
// annotation of `annotationBytes` bytes (0 for none).
func sampleRun(m obj, prior int, annotationBytes int) obj {
	created := time.Date(2026, 11, 21, 5, 0, 0, 123456789, time.UTC)
	annotations := obj{"rollout.argoproj.io/revision": "7"}
	if annotationBytes > 0 {
		annotations["example.com/huge"] = strings.Repeat("x", annotationBytes)
	}
	var measurements []obj
	for i := 0; i < prior; i++ {
		start := created.Add(time.Duration(i) * 30 * time.Second)
		measurements = append(measurements, obj{
			"phase": "Successful", "startedAt": rfc3339(start),
			"finishedAt": rfc3339(start.Add(40 * time.Millisecond)),
			"value":      fmt.Sprintf("[0.%04d]", 100+i),
			"metadata":   obj{"query": `sum(rate(http_requests_total{service="frontend",code=~"5.."}[1m]))`},
		})
	}
	result := obj{"name": m["name"], "phase": "Running", "count": prior, "successful": prior}
	if len(measurements) > 0 { // omitempty, as Kubernetes JSON has it
		result["measurements"] = measurements
	}
	return obj{
		"kind": "AnalysisRun", "apiVersion": "argoproj.io/v1alpha1",
		"metadata": obj{
			"name": "hotrod-frontend-7d9c6b5f4-2", "namespace": "hotrod",
			"uid": "0b7f3c2e-6a55-4c1d-9d8e-3f1f2a6b7c8d", "resourceVersion": "184467", "generation": 1,
			"creationTimestamp": rfc3339(created),
			"labels": obj{
				"app.kubernetes.io/name":       "hotrod-frontend",
				"app.kubernetes.io/part-of":    "hotrod",
				"rollouts-pod-template-hash":   "7d9c6b5f4",
				"rollout-type":                 "Step",
				"step-index":                   "2",
				"app.kubernetes.io/managed-by": "argo-rollouts",
			},
			"annotations": annotations,
			"ownerReferences": []obj{{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
				"name": "hotrod-frontend", "uid": "5c0d8e1a-2b3c-4d5e-8f90-a1b2c3d4e5f6",
				"controller": true, "blockOwnerDeletion": true}},
			"managedFields": []obj{
				{"manager": "rollouts-controller", "operation": "Update", "apiVersion": "argoproj.io/v1alpha1",
					"time": rfc3339(created), "fieldsType": "FieldsV1",
					"fieldsV1": obj{"f:metadata": obj{"f:labels": obj{".": obj{}, "f:app.kubernetes.io/name": obj{}}}, "f:spec": obj{"f:metrics": obj{}}}},
				{"manager": "rollouts-controller", "operation": "Update", "apiVersion": "argoproj.io/v1alpha1",
					"time": rfc3339(created.Add(time.Minute)), "fieldsType": "FieldsV1",
					"fieldsV1":    obj{"f:status": obj{".": obj{}, "f:metricResults": obj{}, "f:phase": obj{}}},
					"subresource": "status"},
			},
		},
		"spec": obj{
			"metrics": []obj{m},
			"args": []obj{{"name": "service", "value": "frontend"},
				{"name": "canary-hash", "value": "7d9c6b5f4"}},
		},
		"status": obj{
			"phase":         "Running",
			"metricResults": []obj{result},
			"startedAt":     rfc3339(created),
			"runSummary":    obj{"count": 1},
		},
	}
}

func mustJSON(v interface{}) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// benchRun is an AnalysisRun of about `kb` KiB of JSON with 10 prior measurements.
func benchRun(m obj, kb int) []byte {
	b := mustJSON(sampleRun(m, 10, 0))
	if pad := kb*1024 - len(b); pad > 0 {
		b = mustJSON(sampleRun(m, 10, pad))
	}
	return b
}
