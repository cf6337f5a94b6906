package main

// The host's view of the dispensed plugin, shaped like argo's
// metricproviders/plugin/rpc.MetricsPluginRPC: every argument is passed as a
// pointer to an `any`, so gob sends it as an interface value named by its
// registered name; InitPlugin and Type send a nil interface.

import (
	"net/rpc"
)

// MetricsPluginRPC calls the plugin's "Plugin" service.
type MetricsPluginRPC struct{ client *rpc.Client }

// InitPlugin calls Plugin.InitPlugin; a transport error becomes an RpcError, as in argo.
func (g *MetricsPluginRPC) InitPlugin() RpcError {
	var resp RpcError
	if err := g.client.Call("Plugin.InitPlugin", new(interface{}), &resp); err != nil {
		return RpcError{ErrorString: "InitPlugin rpc call error: " + err.Error()}
	}
	return resp
}

// Run calls Plugin.Run.
func (g *MetricsPluginRPC) Run(ar *AnalysisRun, m Metric) (Measurement, error) {
	var resp Measurement
	var args interface{} = RunArgs{AnalysisRun: ar, Metric: m}
	err := g.client.Call("Plugin.Run", &args, &resp)
	return resp, err
}

// Resume calls Plugin.Resume.
func (g *MetricsPluginRPC) Resume(ar *AnalysisRun, m Metric, ms Measurement) (Measurement, error) {
	var resp Measurement
	var args interface{} = TerminateAndResumeArgs{AnalysisRun: ar, Metric: m, Measurement: ms}
	err := g.client.Call("Plugin.Resume", &args, &resp)
	return resp, err
}

// Terminate calls Plugin.Terminate.
func (g *MetricsPluginRPC) Terminate(ar *AnalysisRun, m Metric, ms Measurement) (Measurement, error) {
	var resp Measurement
	var args interface{} = TerminateAndResumeArgs{AnalysisRun: ar, Metric: m, Measurement: ms}
	err := g.client.Call("Plugin.Terminate", &args, &resp)
	return resp, err
}

// GarbageCollect calls Plugin.GarbageCollect.
func (g *MetricsPluginRPC) GarbageCollect(ar *AnalysisRun, m Metric, limit int) (RpcError, error) {
	var resp RpcError
	var args interface{} = GarbageCollectArgs{AnalysisRun: ar, Metric: m, Limit: limit}
	err := g.client.Call("Plugin.GarbageCollect", &args, &resp)
	return resp, err
}

// Type calls Plugin.Type.
func (g *MetricsPluginRPC) Type() (string, error) {
	var resp string
	err := g.client.Call("Plugin.Type", new(interface{}), &resp)
	return resp, err
}

// GetMetadata calls Plugin.GetMetadata.
func (g *MetricsPluginRPC) GetMetadata(m Metric) (map[string]string, error) {
	var resp map[string]string
	var args interface{} = GetMetadataArgs{Metric: m}
	err := g.client.Call("Plugin.GetMetadata", &args, &resp)
	return resp, err
}
