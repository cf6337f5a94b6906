// Command metric-baseline is the Go baseline for canary-gate's CPU and RSS
// budgets (issue 12): a metric-provider plugin written the way Argo
// Rollouts' own sample is (test/cmd/metrics-plugin-sample in argo-rollouts
// v1.9.1): hashicorp go-plugin over net/rpc with Argo's
// rpc.RpcMetricProviderPlugin, a Prometheus query through client_golang,
// and utils/evaluate for the conditions. It reads the single
// provider.plugin entry whatever its name, with the sample's two fields
// {address, query}, so the same AnalysisRun drives both plugins.
//
// `metric-baseline bench -plugin PATH` is the host side (bench.go).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	goPlugin "github.com/hashicorp/go-plugin"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	log "github.com/sirupsen/logrus"

	"github.com/argoproj/argo-rollouts/metricproviders/plugin"
	"github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/evaluate"
	metricutil "github.com/argoproj/argo-rollouts/utils/metric"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
	timeutil "github.com/argoproj/argo-rollouts/utils/time"
)

var handshakeConfig = goPlugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "ARGO_ROLLOUTS_RPC_PLUGIN",
	MagicCookieValue: "metricprovider",
}

type config struct {
	Address string `json:"address,omitempty"`
	Query   string `json:"query,omitempty"`
}

type rpcPlugin struct {
	logCtx log.Entry
}

var _ rpc.MetricProviderPlugin = &rpcPlugin{}

func (g *rpcPlugin) InitPlugin() types.RpcError { return types.RpcError{} }

func pluginConfig(metric v1alpha1.Metric) (config, error) {
	c := config{}
	for _, raw := range metric.Provider.Plugin {
		err := json.Unmarshal(raw, &c)
		return c, err
	}
	return c, errors.New("no plugin config")
}

func (g *rpcPlugin) Run(_ *v1alpha1.AnalysisRun, metric v1alpha1.Metric) v1alpha1.Measurement {
	startTime := timeutil.MetaNow()
	m := v1alpha1.Measurement{StartedAt: &startTime}
	c, err := pluginConfig(metric)
	if err != nil {
		return metricutil.MarkMeasurementError(m, err)
	}
	client, err := api.NewClient(api.Config{Address: c.Address})
	if err != nil {
		return metricutil.MarkMeasurementError(m, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	response, warnings, err := v1.NewAPI(client).Query(ctx, c.Query, time.Now())
	if err != nil {
		return metricutil.MarkMeasurementError(m, err)
	}
	value, phase, err := g.processResponse(metric, response)
	if err != nil {
		return metricutil.MarkMeasurementError(m, err)
	}
	m.Value = value
	if len(warnings) > 0 {
		w := ""
		for _, warning := range warnings {
			w = fmt.Sprintf(`%s"%s", `, w, warning)
		}
		m.Metadata = map[string]string{"warnings": w[:len(w)-2]}
	}
	m.Phase = phase
	finishedTime := timeutil.MetaNow()
	m.FinishedAt = &finishedTime
	return m
}

func (g *rpcPlugin) processResponse(metric v1alpha1.Metric, response model.Value) (string, v1alpha1.AnalysisPhase, error) {
	switch value := response.(type) {
	case *model.Scalar:
		phase, err := evaluate.EvaluateResult(float64(value.Value), metric, g.logCtx)
		return value.Value.String(), phase, err
	case model.Vector:
		results := make([]float64, 0, len(value))
		s := "["
		for _, sample := range value {
			if sample != nil {
				s += sample.Value.String() + ","
				results = append(results, float64(sample.Value))
			}
		}
		if len(s) > 1 {
			s = s[:len(s)-1]
		}
		s += "]"
		phase, err := evaluate.EvaluateResult(results, metric, g.logCtx)
		return s, phase, err
	default:
		return "", v1alpha1.AnalysisPhaseError, fmt.Errorf("Prometheus metric type not supported")
	}
}

func (g *rpcPlugin) Resume(_ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, m v1alpha1.Measurement) v1alpha1.Measurement {
	return m
}

func (g *rpcPlugin) Terminate(_ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, m v1alpha1.Measurement) v1alpha1.Measurement {
	return m
}

func (g *rpcPlugin) GarbageCollect(*v1alpha1.AnalysisRun, v1alpha1.Metric, int) types.RpcError {
	return types.RpcError{}
}

func (g *rpcPlugin) Type() string { return plugin.ProviderType }

func (g *rpcPlugin) GetMetadata(metric v1alpha1.Metric) map[string]string {
	out := map[string]string{}
	if c, err := pluginConfig(metric); err == nil && c.Query != "" {
		out["ResolvedPrometheusQuery"] = c.Query
	}
	return out
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bench" {
		if err := bench(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	logCtx := *log.WithFields(log.Fields{"plugin": "baseline"})
	goPlugin.Serve(&goPlugin.ServeConfig{
		HandshakeConfig: handshakeConfig,
		Plugins: map[string]goPlugin.Plugin{
			"RpcMetricProviderPlugin": &rpc.RpcMetricProviderPlugin{Impl: &rpcPlugin{logCtx: logCtx}},
		},
	})
}
