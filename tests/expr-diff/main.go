// Command expr-diff evaluates Argo Rollouts success/failure conditions with the
// real expr engine (github.com/antonmedv/expr, Debian's 1.8.9) and the same
// environment Argo's utils/evaluate builds, so tests/expr_diff.rs can compare
// canary-gate's evaluator against it.
//
// stdin: a JSON array of {"cond": string, "result": {"scalar": "1.5"} |
// {"vector": ["1", "NaN", "+Inf"]}}; numbers travel as strings because JSON has
// no NaN or Inf. stdout: a JSON array of {"value": bool} or {"error": string}.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"

	"github.com/antonmedv/expr"
)

type result struct {
	Scalar *string  `json:"scalar"`
	Vector []string `json:"vector"`
}

type input struct {
	Cond   string `json:"cond"`
	Result result `json:"result"`
}

type output struct {
	Value *bool  `json:"value,omitempty"`
	Error string `json:"error,omitempty"`
}

func parseFloat(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(err)
	}
	return f
}

// value mirrors Argo's Prometheus provider: a scalar is float64, a vector is a
// non-nil []float64 (make(..., 0, n)), even when empty.
func value(r result) interface{} {
	if r.Scalar != nil {
		return parseFloat(*r.Scalar)
	}
	out := make([]float64, 0, len(r.Vector))
	for _, s := range r.Vector {
		out = append(out, parseFloat(s))
	}
	return out
}

func isNil(in interface{}) bool {
	if in == nil {
		return true
	}
	switch reflect.TypeOf(in).Kind() {
	case reflect.Ptr, reflect.Map, reflect.Array, reflect.Chan, reflect.Slice:
		return reflect.ValueOf(in).IsNil()
	}
	return false
}

func asInt(in interface{}) int64 {
	switch i := in.(type) {
	case float64:
		return int64(i)
	case int:
		return int64(i)
	case int64:
		return i
	case string:
		v, err := strconv.ParseInt(i, 10, 64)
		if err != nil {
			panic(err)
		}
		return v
	}
	panic(fmt.Sprintf("asInt() not supported on %v %v", reflect.TypeOf(in), in))
}

func asFloat(in interface{}) float64 {
	switch i := in.(type) {
	case float64:
		return i
	case int:
		return float64(i)
	case int64:
		return float64(i)
	case string:
		v, err := strconv.ParseFloat(i, 64)
		if err != nil {
			panic(err)
		}
		return v
	}
	panic(fmt.Sprintf("asFloat() not supported on %v %v", reflect.TypeOf(in), in))
}

func eval(cond string, res interface{}) (v bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	env := map[string]interface{}{
		"result":  res,
		"asInt":   asInt,
		"asFloat": asFloat,
		"isNaN":   math.IsNaN,
		"isInf":   func(f float64) bool { return math.IsInf(f, 0) },
		"isNil":   func(interface{}) bool { return isNil(res) },
		"default": func(_ interface{}, d interface{}) interface{} {
			if isNil(res) {
				return d
			}
			return res
		},
	}
	program, err := expr.Compile(cond, expr.Env(env))
	if err != nil {
		return false, err
	}
	out, err := expr.Run(program, env)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("expected bool, but got %T", out)
	}
	return b, nil
}

func main() {
	var cases []input
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, "expr-diff: bad input:", err)
		os.Exit(2)
	}
	outs := make([]output, 0, len(cases))
	for _, c := range cases {
		v, err := eval(c.Cond, value(c.Result))
		if err != nil {
			outs = append(outs, output{Error: err.Error()})
			continue
		}
		b := v
		outs = append(outs, output{Value: &b})
	}
	if err := json.NewEncoder(os.Stdout).Encode(outs); err != nil {
		fmt.Fprintln(os.Stderr, "expr-diff:", err)
		os.Exit(2)
	}
}
