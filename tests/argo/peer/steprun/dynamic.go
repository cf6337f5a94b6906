package steprun

import (
	"context"
	"fmt"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/pkg/client/clientset/versioned/fake"
	istioutil "github.com/argoproj/argo-rollouts/utils/istio"
	k8serrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	log "github.com/sirupsen/logrus"
)

// kinds are the kinds of the resources the controller's dynamic informers
// list (argo's, and Istio's, which its Istio part lists at start).
var kinds = map[schema.GroupVersionResource]string{
	v1alpha1.RolloutGVR:                    "Rollout",
	v1alpha1.AnalysisRunGVR:                "AnalysisRun",
	v1alpha1.AnalysisTemplateGVR:           "AnalysisTemplate",
	v1alpha1.ClusterAnalysisTemplateGVR:    "ClusterAnalysisTemplate",
	v1alpha1.ExperimentGVR:                 "Experiment",
	istioutil.GetIstioVirtualServiceGVR():  "VirtualService",
	istioutil.GetIstioDestinationRuleGVR(): "DestinationRule",
}

// mirrored are the resources argo's rollout controller writes through its
// typed clientset.
var mirrored = []schema.GroupVersionResource{v1alpha1.RolloutGVR, v1alpha1.AnalysisRunGVR}

// newDynamic is a fake dynamic client holding objects as unstructured, the
// form the dynamic informers hand to argo's tolerant listers.
func newDynamic(objects []runtime.Object) (*dynamicfake.FakeDynamicClient, error) {
	lists := map[schema.GroupVersionResource]string{}
	for gvr, kind := range kinds {
		lists[gvr] = kind + "List"
	}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists)
	for _, o := range objects {
		u, err := toUnstructured(o)
		if err != nil {
			return nil, err
		}
		if err := client.Tracker().Add(u); err != nil {
			return nil, fmt.Errorf("add %s to the dynamic client: %w", u.GetName(), err)
		}
	}
	return client, nil
}

// toUnstructured converts an argo object, setting the apiVersion and kind
// the typed fake does not keep.
func toUnstructured(o runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	var kind string
	switch o.(type) {
	case *v1alpha1.Rollout:
		kind = "Rollout"
	case *v1alpha1.AnalysisRun:
		kind = "AnalysisRun"
	case *v1alpha1.AnalysisTemplate:
		kind = "AnalysisTemplate"
	default:
		return nil, fmt.Errorf("no kind for %T", o)
	}
	u.SetGroupVersionKind(v1alpha1.SchemeGroupVersion.WithKind(kind))
	return u, nil
}

// mirror copies every change of the mirrored resources in argo's typed fake
// to the dynamic fake until ctx ends.
func mirror(ctx context.Context, argo *fake.Clientset, dynamic *dynamicfake.FakeDynamicClient) error {
	for _, gvr := range mirrored {
		w, err := argo.Tracker().Watch(gvr, "")
		if err != nil {
			return fmt.Errorf("watch %s: %w", gvr.Resource, err)
		}
		go func() {
			defer w.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case ev, ok := <-w.ResultChan():
					if !ok {
						return
					}
					apply(dynamic, gvr, ev)
				}
			}
		}()
	}
	return nil
}

// apply writes one watch event of the typed fake to the dynamic fake.
func apply(dynamic *dynamicfake.FakeDynamicClient, gvr schema.GroupVersionResource, ev watch.Event) {
	u, err := toUnstructured(ev.Object)
	if err != nil {
		log.Warnf("mirror %s: %v", gvr.Resource, err)
		return
	}
	t := dynamic.Tracker()
	switch ev.Type {
	case watch.Added:
		err = t.Create(gvr, u, u.GetNamespace())
	case watch.Modified:
		err = t.Update(gvr, u, u.GetNamespace())
	case watch.Deleted:
		err = t.Delete(gvr, u.GetNamespace(), u.GetName())
	}
	if k8serrors.IsAlreadyExists(err) {
		err = t.Update(gvr, u, u.GetNamespace())
	}
	if err != nil {
		log.Warnf("mirror %s %s %s: %v", ev.Type, gvr.Resource, u.GetName(), err)
	}
}
