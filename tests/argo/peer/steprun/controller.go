package steprun

import (
	"context"
	"fmt"

	"github.com/argoproj/argo-rollouts/controller/metrics"
	"github.com/argoproj/argo-rollouts/pkg/client/clientset/versioned/fake"
	"github.com/argoproj/argo-rollouts/rollout"
	ingressutil "github.com/argoproj/argo-rollouts/utils/ingress"
	istioutil "github.com/argoproj/argo-rollouts/utils/istio"
	argoqueue "github.com/argoproj/argo-rollouts/utils/queue"
	"github.com/argoproj/argo-rollouts/utils/record"
	"github.com/argoproj/argo-rollouts/utils/tolerantinformer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic/dynamicinformer"
	kubeinformers "k8s.io/client-go/informers"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/util/workqueue"
)

// running is a started rollout controller.
type running struct {
	queues  []workqueue.RateLimitingInterface
	stopped chan struct{}
}

// stop cancels the controller's context, shuts its queues down (its workers
// return only then) and waits for Run to return.
func (r running) stop(cancel context.CancelFunc) {
	cancel()
	for _, q := range r.queues {
		q.ShutDown()
	}
	<-r.stopped
}

// start wires argo's rollout controller as cmd/rollouts-controller/main.go
// and controller/controller.go do: the same config fields, argo's own
// tolerant informers over a dynamic informer factory for argo's kinds, the
// real workload-ref resolver. The cluster is two fake clientsets: the
// dynamic one, read by the informers, and the typed one argo writes to; a
// mirror copies those writes to the dynamic one, as one API server would
// show them. It starts the informers and the controller's workers.
//
// The tolerant informers are not only fidelity: v1.9.1's syncHandler writes
// the patched Rollout back into the Rollouts informer as unstructured
// (writeBackToInformer, rollout/controller.go@v1.9.1), which only the
// tolerant lister reads back.
func start(ctx context.Context, kube *k8sfake.Clientset, argo *fake.Clientset, argoObjects ...runtime.Object) (running, error) {
	dynamic, err := newDynamic(argoObjects)
	if err != nil {
		return running{}, err
	}
	if err := mirror(ctx, argo, dynamic); err != nil {
		return running{}, err
	}
	kubeInformers := kubeinformers.NewSharedInformerFactory(kube, 0)
	dynamicInformers := dynamicinformer.NewDynamicSharedInformerFactory(dynamic, 0)
	ingresses, err := ingressutil.NewIngressWrapper(ingressutil.IngressModeNetworking, kube, kubeInformers)
	if err != nil {
		return running{}, fmt.Errorf("argo ingress wrapper: %w", err)
	}
	rollouts := tolerantinformer.NewTolerantRolloutInformer(dynamicInformers)
	r := running{
		queues: []workqueue.RateLimitingInterface{
			workqueue.NewNamedRateLimitingQueue(argoqueue.DefaultArgoRolloutsRateLimiter(), "Rollouts"),
			workqueue.NewNamedRateLimitingQueue(argoqueue.DefaultArgoRolloutsRateLimiter(), "Services"),
			workqueue.NewNamedRateLimitingQueue(argoqueue.DefaultArgoRolloutsRateLimiter(), "Ingresses"),
		},
		stopped: make(chan struct{}),
	}
	c := rollout.NewController(rollout.ControllerConfig{
		Namespace:                       metav1.NamespaceAll,
		KubeClientSet:                   kube,
		ArgoProjClientset:               argo,
		DynamicClientSet:                dynamic,
		RefResolver:                     rollout.NewInformerBasedWorkloadRefResolver(metav1.NamespaceAll, dynamic, kube.Discovery(), argo, rollouts.Informer()),
		ExperimentInformer:              tolerantinformer.NewTolerantExperimentInformer(dynamicInformers),
		AnalysisRunInformer:             tolerantinformer.NewTolerantAnalysisRunInformer(dynamicInformers),
		AnalysisTemplateInformer:        tolerantinformer.NewTolerantAnalysisTemplateInformer(dynamicInformers),
		ClusterAnalysisTemplateInformer: tolerantinformer.NewTolerantClusterAnalysisTemplateInformer(dynamicInformers),
		ReplicaSetInformer:              kubeInformers.Apps().V1().ReplicaSets(),
		ServicesInformer:                kubeInformers.Core().V1().Services(),
		IngressWrapper:                  ingresses,
		RolloutsInformer:                rollouts,
		IstioPrimaryDynamicClient:       dynamic,
		IstioVirtualServiceInformer:     dynamicInformers.ForResource(istioutil.GetIstioVirtualServiceGVR()).Informer(),
		IstioDestinationRuleInformer:    dynamicInformers.ForResource(istioutil.GetIstioDestinationRuleGVR()).Informer(),
		RolloutWorkQueue:                r.queues[0],
		ServiceWorkQueue:                r.queues[1],
		IngressWorkQueue:                r.queues[2],
		MetricsServer: metrics.NewMetricsServer(metrics.ServerConfig{
			Addr:               "127.0.0.1:0",
			K8SRequestProvider: &metrics.K8sRequestsCountProvider{},
		}),
		Recorder:                    record.NewFakeEventRecorder(),
		EphemeralMetadataThreads:    rollout.DefaultEphemeralMetadataThreads,
		EphemeralMetadataPodRetries: rollout.DefaultEphemeralMetadataPodRetries,
	})
	kubeInformers.Start(ctx.Done())
	dynamicInformers.Start(ctx.Done())
	kubeInformers.WaitForCacheSync(ctx.Done())
	dynamicInformers.WaitForCacheSync(ctx.Done())
	go func() {
		defer close(r.stopped)
		_ = c.Run(ctx, 1)
	}()
	return r, nil
}
