// Package loader installs a metric-provider plugin the way the Argo Rollouts
// controller does at start-up, so that argo's own plugin path can load it.
//
// The controller (controller/controller.go@v1.9.1 and @v1.10.0) calls
// utils/config.InitializeConfig on ConfigMap `argo-rollouts-config` in the
// pod's namespace (utils/defaults.Namespace: $POD_NAMESPACE), then
// utils/plugin.DownloadPlugins, which copies a `file://` plugin to
// ./plugin-bin/<namespace>/<name> (a path relative to the working directory).
// Later, metricproviders/plugin/client.GetMetricPlugin resolves the plugin by
// name with utils/plugin.GetPluginInfo, again relative to the working
// directory, and starts it with go-plugin (Managed, net/rpc). Install does the
// same with a fake clientset, and leaves the process in dir.
//
// These functions are identical in v1.9.1 and v1.10.0, so one loader serves
// both lines.
package loader

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/argoproj/argo-rollouts/utils/config"
	"github.com/argoproj/argo-rollouts/utils/defaults"
	"github.com/argoproj/argo-rollouts/utils/plugin"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"
)

// DefaultNamespace is the namespace Install uses when $POD_NAMESPACE is unset.
const DefaultNamespace = "argo-rollouts"

// Install makes the plugin binary bin loadable under name (which argo requires
// to look like "<namespace>/<name>") through argo's plugin client. It changes
// the working directory of the whole process to dir (created if missing) and
// must stay there: argo finds the copied plugin relative to it. The returned
// clientset holds the ConfigMap, for callers that build argo controllers.
func Install(dir, name, bin string) (kubernetes.Interface, error) {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return nil, fmt.Errorf("plugin path %s: %w", bin, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("plugin binary: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("plugin dir: %w", err)
	}
	if err := os.Chdir(dir); err != nil {
		return nil, fmt.Errorf("chdir %s: %w", dir, err)
	}
	if os.Getenv("POD_NAMESPACE") == "" {
		if err := os.Setenv("POD_NAMESPACE", DefaultNamespace); err != nil {
			return nil, err
		}
	}
	// The ConfigMap as a user writes it (docs/analysis/plugins.md@v1.9.1).
	items, err := yaml.Marshal([]map[string]string{{"name": name, "location": "file://" + abs}})
	if err != nil {
		return nil, err
	}
	kube := fake.NewSimpleClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:      defaults.DefaultRolloutsConfigMapName,
			Namespace: defaults.Namespace(),
		},
		Data: map[string]string{"metricProviderPlugins": string(items)},
	})
	if _, err := config.InitializeConfig(kube, defaults.DefaultRolloutsConfigMapName); err != nil {
		return nil, fmt.Errorf("argo InitializeConfig: %w", err)
	}
	if err := plugin.DownloadPlugins(plugin.FileDownloaderImpl{}, kube); err != nil {
		return nil, fmt.Errorf("argo DownloadPlugins: %w", err)
	}
	return kube, nil
}

// Path is where argo starts the plugin called name from (after Install):
// utils/plugin.GetPluginInfo's answer.
func Path(name string) (string, error) {
	p, _, err := plugin.GetPluginInfo(name, types.PluginTypeMetricProvider)
	return p, err
}
