package sasquatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
)

// Chart says what to render: Phalanx's chart of an application with an
// environment's values, as Argo CD renders it for Phalanx.
type Chart struct {
	// Dir is the chart (applications/sasquatch).
	Dir string
	// Env is the environment; its values are Dir/values-<Env>.yaml
	// unless Values is set.
	Env string
	// Values are the values files on top of the chart's values.yaml, in
	// order; nil means values-<Env>.yaml.
	Values []string
	// Globals are the values Phalanx sets for every environment
	// (global.host, global.baseUrl, global.vaultSecretsPath,
	// global.environmentName); missing ones get DefaultGlobals.
	Globals map[string]string
}

// DefaultGlobals are the globals Phalanx sets, as a stand renders them:
// names of its own, since nothing is fetched or reached.
func DefaultGlobals(env string) map[string]string {
	return map[string]string{
		"global.host":             env + ".teststand.invalid",
		"global.baseUrl":          "https://" + env + ".teststand.invalid",
		"global.vaultSecretsPath": "secret/phalanx/" + env,
		"global.environmentName":  env,
	}
}

// Render renders the chart offline with Helm's Go SDK (client only, a
// dry run: nothing is installed or reached) and returns the manifests.
// The subcharts Chart.yaml fetches from remote repositories are absent
// and need not be there: Sasquatch's Kafka, replication and ingestion do
// not use them. An error names the chart, the values file or the
// template that failed.
func Render(ctx context.Context, c Chart) ([]byte, error) {
	if c.Env == "" {
		return nil, errors.New("render: no environment")
	}
	files := c.Values
	if files == nil {
		files = []string{filepath.Join(c.Dir, "values-"+c.Env+".yaml")}
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("values of %s: %w", c.Env, err)
		}
	}
	ch, err := loader.Load(c.Dir)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.Dir, err)
	}
	globals := DefaultGlobals(c.Env)
	for k, v := range c.Globals {
		globals[k] = v
	}
	opts := values.Options{ValueFiles: files}
	for k, v := range globals {
		opts.StringValues = append(opts.StringValues, k+"="+v)
	}
	vals, err := opts.MergeValues(getter.Providers{})
	if err != nil {
		return nil, fmt.Errorf("values of %s: %w", c.Env, err)
	}
	in := action.NewInstall(new(action.Configuration))
	in.ClientOnly, in.DryRun, in.Replace = true, true, true
	in.ReleaseName, in.Namespace = ch.Name(), ch.Name() // as Phalanx installs it
	in.KubeVersion = &chartutil.KubeVersion{Version: "v1.30.0", Major: "1", Minor: "30"}
	rel, err := in.RunWithContext(ctx, ch, vals)
	if err != nil {
		return nil, fmt.Errorf("render %s for %s (values %s): %w", c.Dir, c.Env, strings.Join(files, ", "), err)
	}
	return []byte(rel.Manifest), nil
}

// Load renders the chart for c.Env and reads the deployment.
func Load(ctx context.Context, c Chart) (*Deployment, error) {
	out, err := Render(ctx, c)
	if err != nil {
		return nil, err
	}
	d, err := ParseManifests(c.Env, "rendered "+c.Env, out)
	if err != nil {
		return nil, err
	}
	d.Files = c.Values
	if d.Files == nil {
		d.Files = []string{filepath.Join(c.Dir, "values-"+c.Env+".yaml")}
	}
	return d, nil
}
