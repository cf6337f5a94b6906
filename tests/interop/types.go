package main

// Hand-written parts of the replica Argo types: the ones with special gob
// behaviour (metav1.Time is a GobEncoder through its embedded time.Time) and
// the argument wrappers Argo registers by name (metricproviders/plugin/rpc).

import (
	"encoding/gob"
	"time"
)

// Time mirrors metav1.Time: embedding time.Time promotes GobEncode/GobDecode,
// so gob sends it as a GobEncoder, exactly as the controller does.
type Time struct {
	time.Time
}

// RunArgs mirrors argo's rpc.RunArgs.
type RunArgs struct {
	AnalysisRun *AnalysisRun
	Metric      Metric
}

// TerminateAndResumeArgs mirrors argo's rpc.TerminateAndResumeArgs.
type TerminateAndResumeArgs struct {
	AnalysisRun *AnalysisRun
	Metric      Metric
	Measurement Measurement
}

// GarbageCollectArgs mirrors argo's rpc.GarbageCollectArgs.
type GarbageCollectArgs struct {
	AnalysisRun *AnalysisRun
	Metric      Metric
	Limit       int
}

// GetMetadataArgs mirrors argo's rpc.GetMetadataArgs.
type GetMetadataArgs struct {
	Metric Metric
}

// RpcError mirrors argo's utils/plugin/types.RpcError.
type RpcError struct {
	ErrorString string
}

func (e RpcError) Error() string { return e.ErrorString }

func init() {
	gob.RegisterName("RunArgs", new(RunArgs))
	gob.RegisterName("TerminateAndResumeArgs", new(TerminateAndResumeArgs))
	gob.RegisterName("GarbageCollectArgs", new(GarbageCollectArgs))
	gob.RegisterName("GetMetadataArgs", new(GetMetadataArgs))
	gob.RegisterName("RpcError", new(RpcError))
}
