// Package version imports the argo-rollouts packages every subcommand may use,
// so that each module's go.sum covers them all.
package version

import (
	_ "github.com/argoproj/argo-rollouts/analysis"
	_ "github.com/argoproj/argo-rollouts/metricproviders/plugin"
	_ "github.com/argoproj/argo-rollouts/metricproviders/plugin/client"
	_ "github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	_ "github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	_ "github.com/argoproj/argo-rollouts/pkg/client/clientset/versioned/fake"
	_ "github.com/argoproj/argo-rollouts/pkg/client/informers/externalversions"
	_ "github.com/argoproj/argo-rollouts/utils/config"
	_ "github.com/argoproj/argo-rollouts/utils/evaluate"
	_ "github.com/argoproj/argo-rollouts/utils/plugin"
	_ "github.com/hashicorp/go-plugin"
	_ "k8s.io/client-go/informers"
	_ "k8s.io/client-go/kubernetes/fake"
	_ "sigs.k8s.io/yaml"
)
