package steprun

import (
	"maps"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/annotations"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1defaults "k8s.io/kubernetes/pkg/apis/core/v1"
	"k8s.io/utils/ptr"
)

const (
	// The images of the stable and the canary pod templates: the update.
	stableImage = "registry.example/app:1"
	canaryImage = "registry.example/app:2"
	// appLabel is the Rollout's selector label.
	appLabel = "app"
)

// world is the cluster in the middle of an update: the user has changed the
// Rollout's pod template, and the canary ReplicaSet for it exists next to the
// stable one.
type world struct {
	rollout        *v1alpha1.Rollout
	stable, canary *appsv1.ReplicaSet
}

// newWorld builds that cluster. Argo's rollout controller finds the canary
// ReplicaSet as the one whose pod template equals the Rollout's
// (replicasetutil.FindNewReplicaSet compares them ignoring the hash label)
// and takes the canary's hash from that ReplicaSet's
// rollouts-pod-template-hash label (replicasetutil.GetPodTemplateHash), so
// the hash is hash although argo would compute another for a ReplicaSet it
// creates itself. The status is the one before argo has seen the update
// (current pod hash = stable): argo records the new hash and step itself.
//
// stableHash labels the stable ReplicaSet. With stableArg set, the analysis
// step passes it to the template as that arg, with
// `valueFrom: {podTemplateHashValue: Stable}`, as a user's Rollout would.
func newWorld(namespace, name, hash, templateName, stableHash, stableArg string) world {
	analysis := &v1alpha1.RolloutAnalysis{
		Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: templateName}},
	}
	if stableArg != "" {
		analysis.Args = []v1alpha1.AnalysisRunArgument{{
			Name:      stableArg,
			ValueFrom: &v1alpha1.ArgumentValueFrom{PodTemplateHashValue: ptr.To(v1alpha1.Stable)},
		}}
	}
	ro := &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   namespace,
			UID:         types.UID("uid-" + name),
			Annotations: map[string]string{annotations.RevisionAnnotation: "1"},
		},
		Spec: v1alpha1.RolloutSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{appLabel: name}},
			Template: podTemplate(name, canaryImage),
			Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
				Steps: []v1alpha1.CanaryStep{{Analysis: analysis}},
			}},
		},
		Status: v1alpha1.RolloutStatus{
			StableRS:       stableHash,
			CurrentPodHash: stableHash,
		},
	}
	return world{
		rollout: ro,
		stable:  replicaSet(ro, stableHash, stableImage, "1", 1),
		canary:  replicaSet(ro, hash, canaryImage, "2", 0),
	}
}

func podTemplate(app, image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{appLabel: app}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: image}},
		},
	}
}

// replicaSet is a ReplicaSet of ro as the API server stores it: owned by
// ro, its pod template defaulted by the API server's defaulting (the
// function argo's FindNewReplicaSet applies to the Rollout's template before
// comparing), all replicas available.
func replicaSet(ro *v1alpha1.Rollout, hash, image, revision string, replicas int32) *appsv1.ReplicaSet {
	pt := corev1.PodTemplate{Template: podTemplate(ro.Name, image)}
	corev1defaults.SetObjectDefaults_PodTemplate(&pt)
	template := pt.Template
	template.Labels[v1alpha1.DefaultRolloutUniqueLabelKey] = hash
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            ro.Name + "-" + hash,
			Namespace:       ro.Namespace,
			UID:             types.UID("uid-" + ro.Name + "-" + hash),
			Labels:          maps.Clone(template.Labels),
			Annotations:     map[string]string{annotations.RevisionAnnotation: revision},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ro, v1alpha1.SchemeGroupVersion.WithKind("Rollout"))},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{
				appLabel: ro.Name, v1alpha1.DefaultRolloutUniqueLabelKey: hash,
			}},
			Template: template,
		},
		Status: appsv1.ReplicaSetStatus{
			Replicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas,
		},
	}
}
