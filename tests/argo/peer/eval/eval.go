// Package eval is the `eval` subcommand of the argo peer: the oracle of
// tests/expr_diff.rs. It evaluates success/failure conditions with Argo
// Rollouts' own utils/evaluate (at the argo-rollouts release the peer binary
// is built against, so with that release's expr), on results built the way
// Argo's Prometheus provider builds them.
//
// Input (stdin): one JSON array of cases. Numbers travel as strings
// ("0.5", "NaN", "+Inf", "-Inf", "-0") because JSON has no NaN or Inf.
//
//	{"cond": C, "result": {"vector": ["1", "NaN"]}}   condition mode
//	{"cond": C, "result": {"scalar": "0.5"}}
//	{"success": S, "failure": F, "response": D}       provider mode
//	{"time": E}                                        time mode
//
// Condition mode calls evaluate.EvalCondition(result, C), the call
// EvaluateResult makes for each condition; a vector becomes a non-nil
// []float64 and a scalar a float64, as in metricproviders/prometheus.
// Provider mode runs the real metricproviders/prometheus Provider: D is the
// `data` object of a Prometheus query answer ({"resultType": "vector",
// "result": [...]}), served by a stand-in v1.API whose Query returns it, and
// the answer is the Measurement's phase, message and value.
// Time mode calls evaluate.EvalTime(E), what Argo's Prometheus provider does
// with a rangeQuery's start and end; the answer carries the peer's clock read
// just before and just after the call, since every now() in E reads it.
//
// Output (stdout): one JSON line, an array with one object per case:
// {"value": bool} or {"error": msg} (condition mode), {"phase", "message",
// "value"} (provider mode), {"time": instant} or {"error": msg} plus
// {"before": instant, "after": instant} (time mode), an instant being
// [unix seconds, nanoseconds]; then the peer's PASS line.
package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/argoproj/argo-rollouts/metricproviders/prometheus"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/evaluate"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	log "github.com/sirupsen/logrus"

	"canarygate/argopeer"
)

func init() {
	argopeer.Register("eval", argopeer.Command{
		Summary: "evaluate conditions with argo's utils/evaluate (JSON cases on stdin)",
		Run:     run,
	})
}

type result struct {
	Scalar *string  `json:"scalar,omitempty"`
	Vector []string `json:"vector,omitempty"`
}

type input struct {
	Cond     *string         `json:"cond,omitempty"`
	Result   *result         `json:"result,omitempty"`
	Success  string          `json:"success,omitempty"`
	Failure  string          `json:"failure,omitempty"`
	Response json.RawMessage `json:"response,omitempty"`
	Time     *string         `json:"time,omitempty"`
}

type output struct {
	Value   *bool    `json:"value,omitempty"`
	Error   *string  `json:"error,omitempty"`
	Phase   string   `json:"phase,omitempty"`
	Message string   `json:"message,omitempty"`
	Measure *string  `json:"measurement,omitempty"`
	Time    *instant `json:"time,omitempty"`
	Before  *instant `json:"before,omitempty"`
	After   *instant `json:"after,omitempty"`
}

// instant is a time.Time as [unix seconds, nanoseconds]; unlike UnixNano it
// represents every instant a time.Time can hold.
type instant [2]int64

func instantOf(t time.Time) *instant {
	return &instant{t.Unix(), int64(t.Nanosecond())}
}

func run(args []string) error {
	if len(args) != 0 {
		return fmt.Errorf("eval takes no arguments, got %q", args)
	}
	body, err := io.ReadAll(os.Stdin)
	if err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	var cases []input
	if err := json.Unmarshal(body, &cases); err != nil {
		return fmt.Errorf("bad input: %w", err)
	}
	outs := make([]output, 0, len(cases))
	for i, c := range cases {
		o, err := one(c)
		if err != nil {
			return fmt.Errorf("case %d: %w", i, err)
		}
		outs = append(outs, o)
	}
	line, err := json.Marshal(outs)
	if err != nil {
		return err
	}
	fmt.Printf("%s\n", line)
	return nil
}

func one(c input) (output, error) {
	switch {
	case c.Cond != nil && c.Result != nil:
		value, err := c.Result.value()
		if err != nil {
			return output{}, err
		}
		return condition(value, *c.Cond), nil
	case c.Response != nil:
		return provider(c)
	case c.Time != nil:
		return timeExpr(*c.Time), nil
	}
	return output{}, fmt.Errorf("a case has cond+result or response")
}

// value builds what metricproviders/prometheus hands to EvaluateResult: a
// float64 for a scalar; for a vector, sampleValuesToFloatSlice's
// make([]float64, 0, n) with the samples appended (non-nil when empty).
func (r result) value() (any, error) {
	if r.Scalar != nil {
		return strconv.ParseFloat(*r.Scalar, 64)
	}
	out := make([]float64, 0, len(r.Vector))
	for _, s := range r.Vector {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func condition(value any, cond string) (o output) {
	defer func() {
		// EvalCondition recovers expr's panics itself; a panic here would be argo's bug.
		if r := recover(); r != nil {
			msg := fmt.Sprintf("oracle panic: %v", r)
			o = output{Error: &msg}
		}
	}()
	b, err := evaluate.EvalCondition(value, cond)
	if err != nil {
		msg := err.Error()
		return output{Error: &msg}
	}
	return output{Value: &b}
}

// timeExpr evaluates E as Argo evaluates a rangeQuery's start or end.
func timeExpr(expression string) (o output) {
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprintf("oracle panic: %v", r)
			o = output{Error: &msg}
		}
	}()
	before := time.Now()
	t, err := evaluate.EvalTime(expression)
	after := time.Now()
	o = output{Before: instantOf(before), After: instantOf(after)}
	if err != nil {
		msg := err.Error()
		o.Error = &msg
		return o
	}
	o.Time = instantOf(t)
	return o
}

// stubAPI is the Prometheus API as the provider sees it; only Query answers.
type stubAPI struct {
	v1.API
	value model.Value
}

func (s stubAPI) Query(context.Context, string, time.Time, ...v1.Option) (model.Value, v1.Warnings, error) {
	return s.value, nil, nil
}

func provider(c input) (output, error) {
	value, err := decodeData(c.Response)
	if err != nil {
		return output{}, err
	}
	metric := v1alpha1.Metric{
		Name:             "diff",
		SuccessCondition: c.Success,
		FailureCondition: c.Failure,
		Provider: v1alpha1.MetricProvider{
			Prometheus: &v1alpha1.PrometheusMetric{Query: "recorded"},
		},
	}
	logCtx := log.NewEntry(log.New())
	logCtx.Logger.SetOutput(io.Discard)
	p, err := prometheus.NewPrometheusProvider(stubAPI{value: value}, *logCtx, metric)
	if err != nil {
		return output{}, err
	}
	m := p.Run(&v1alpha1.AnalysisRun{}, metric)
	v := m.Value
	return output{Phase: string(m.Phase), Message: m.Message, Measure: &v}, nil
}

// decodeData turns a query answer's `data` into the model.Value the client
// library would return, with the model types' own JSON decoding.
func decodeData(raw json.RawMessage) (model.Value, error) {
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("response: %w", err)
	}
	switch d.ResultType {
	case "vector":
		var x model.Vector
		if err := json.Unmarshal(d.Result, &x); err != nil {
			return nil, err
		}
		return x, nil
	case "matrix":
		var x model.Matrix
		if err := json.Unmarshal(d.Result, &x); err != nil {
			return nil, err
		}
		return x, nil
	case "scalar":
		var x model.Scalar
		if err := json.Unmarshal(d.Result, &x); err != nil {
			return nil, err
		}
		return &x, nil
	case "string":
		var x model.String
		if err := json.Unmarshal(d.Result, &x); err != nil {
			return nil, err
		}
		return &x, nil
	}
	return nil, fmt.Errorf("response: unknown resultType %q", d.ResultType)
}
