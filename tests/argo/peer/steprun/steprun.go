// Package steprun is the `steprun` subcommand of the argo peer: the proof of
// what Argo Rollouts puts on the AnalysisRun of a canary step. It runs argo's
// own rollout controller (rollout.NewController + Run, wired as
// cmd/rollouts-controller/main.go does, over fake clientsets; see start)
// on a Rollout that is mid-update: a stable ReplicaSet, a canary ReplicaSet
// whose `rollouts-pod-template-hash` label is -hash, and a first canary step
// `analysis: {templates: [{templateName: <the -template's name>}]}`. The
// controller reconciles it until it creates the step's AnalysisRun
// (rollout/analysis.go: reconcileStepBasedAnalysisRun → createAnalysisRun →
// newAnalysisRunFromRollout), and the subcommand prints the object argo sent
// to the fake clientset's Create, unchanged.
//
// Output (stdout): a line `ANALYSISRUN {json}`, then the peer's PASS. The
// labels and namespace are judged by the caller (tests/argo_presets.rs),
// which also feeds the run to the `reconcile` subcommand.
package steprun

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/pkg/client/clientset/versioned/fake"
	log "github.com/sirupsen/logrus"
	"k8s.io/apimachinery/pkg/runtime"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"canarygate/argopeer"
	"canarygate/argopeer/reconcile"
)

// pollInterval is how often the created AnalysisRun is looked for.
const pollInterval = 50 * time.Millisecond

func init() {
	argopeer.Register("steprun", argopeer.Command{
		Summary: "print the AnalysisRun argo's rollout controller creates for a canary analysis step",
		Run:     run,
	})
}

type options struct {
	template, namespace, rollout, hash string
	stableHash, stableArg              string
	timeout                            time.Duration
	verbose                            bool
}

func run(args []string) error {
	var o options
	fs := flag.NewFlagSet("steprun", flag.ContinueOnError)
	fs.StringVar(&o.template, "template", "", "the AnalysisTemplate (YAML or JSON) the analysis step references")
	fs.StringVar(&o.namespace, "namespace", "default", "the Rollout's namespace")
	fs.StringVar(&o.rollout, "rollout", "canary", "the Rollout's name")
	fs.StringVar(&o.hash, "hash", "", "the canary ReplicaSet's rollouts-pod-template-hash label")
	fs.StringVar(&o.stableHash, "stable-hash", "stable0", "the stable ReplicaSet's rollouts-pod-template-hash label")
	fs.StringVar(&o.stableArg, "stable-hash-arg", "", "pass the stable's hash to the template as this arg (podTemplateHashValue: Stable)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up when no AnalysisRun was created by then")
	fs.BoolVar(&o.verbose, "v", false, "log argo's controller at info level")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.template == "" || o.hash == "" {
		return errors.New("steprun needs -template and -hash")
	}
	log.SetLevel(log.WarnLevel)
	if o.verbose {
		log.SetLevel(log.InfoLevel)
	}
	template, err := reconcile.LoadTemplate(o.template)
	if err != nil {
		return err
	}
	template.Namespace = o.namespace
	w := newWorld(o.namespace, o.rollout, o.hash, template.Name, o.stableHash, o.stableArg)
	kube := k8sfake.NewSimpleClientset(w.stable, w.canary)
	argo := fake.NewSimpleClientset(w.rollout)
	created, err := reconcileUntilRun(kube, argo, o.timeout, w.rollout, template)
	if err != nil {
		return err
	}
	line, err := json.Marshal(created)
	if err != nil {
		return err
	}
	fmt.Printf("ANALYSISRUN %s\n", line)
	return nil
}

// reconcileUntilRun runs argo's rollout controller until it has created an
// AnalysisRun, and returns the object of that Create call.
func reconcileUntilRun(kube *k8sfake.Clientset, argo *fake.Clientset, timeout time.Duration, argoObjects ...runtime.Object) (*v1alpha1.AnalysisRun, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := start(ctx, kube, argo, argoObjects...)
	if err != nil {
		return nil, err
	}
	defer c.stop(cancel)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if run := createdRun(argo.Actions()); run != nil {
			return run, nil
		}
		time.Sleep(pollInterval)
	}
	return nil, fmt.Errorf("argo's rollout controller created no AnalysisRun within %v; its actions: %s", timeout, describe(argo.Actions()))
}

// createdRun is the AnalysisRun of the first Create call on analysisruns.
func createdRun(actions []k8stesting.Action) *v1alpha1.AnalysisRun {
	for _, a := range actions {
		create, ok := a.(k8stesting.CreateAction)
		if !ok || a.GetResource().Resource != "analysisruns" {
			continue
		}
		if run, ok := create.GetObject().(*v1alpha1.AnalysisRun); ok {
			return run.DeepCopy()
		}
	}
	return nil
}

// describe lists the verbs and resources of actions, for the timeout message.
func describe(actions []k8stesting.Action) string {
	out := ""
	for _, a := range actions {
		if a.GetVerb() == "list" || a.GetVerb() == "watch" {
			continue
		}
		out += fmt.Sprintf("[%s %s %s] ", a.GetVerb(), a.GetResource().Resource, a.GetSubresource())
	}
	return out
}
