// backend_external.go holds the external backend: the sites are a
// deployment's running clusters, registries and InfluxDBs, given by
// address. The backend waits for each and creates nothing there.

package harness

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/registry"
)

func init() {
	RegisterBackend(External, func(e *Env, opts UpOptions) Backend { return &externalBackend{e: e} })
}

// externalBackend connects to a deployment's sites.
type externalBackend struct{ e *Env }

// StartKafka waits until each site's Kafka answers metadata.
func (b *externalBackend) StartKafka(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	for _, name := range b.e.Stand.SiteNames() {
		spec := b.e.Stand.Sites[name]
		brokers := cli.List(spec.Kafka.Bootstrap)
		wk := wait.ForKafkaMetadata(brokers, 1)
		wk.Timeout = 30 * time.Second
		if err := wk.WaitUntilReady(ctx); err != nil {
			return nil, fmt.Errorf("site %s: kafka %s: %w", name, spec.Kafka.Bootstrap, err)
		}
		out[name] = brokers
	}
	return out, nil
}

// StartRegistry waits until the site's registry (or its remote registry
// for the alias) answers, at the URL the stand gives.
func (b *externalBackend) StartRegistry(ctx context.Context, r RegistryRequest) (*registry.Server, string, error) {
	spec := b.e.Stand.Sites[r.Site]
	var url, what string
	if r.Alias == "" {
		url, what = spec.Registry.URL, "registry"
	} else {
		url, what = spec.Remote(r.Alias).URL, "remote registry for "+r.Alias
	}
	url = strings.TrimRight(url, "/")
	if err := wait.ForHTTP(url + "/subjects").WithTimeout(30 * time.Second).WaitUntilReady(ctx); err != nil {
		return nil, "", fmt.Errorf("site %s: %s: %w", r.Site, what, err)
	}
	return nil, url, nil
}

// StartInfluxDB waits until the site's InfluxDB answers /ping; Up then
// checks that it has the stand's databases.
func (b *externalBackend) StartInfluxDB(ctx context.Context, site string, spec *InfluxSpec) (SiteInflux, error) {
	c := &influxd.Client{URL: strings.TrimRight(spec.URL, "/")}
	if spec.Major() == 2 {
		c.Org, c.Token = spec.Org, spec.Token
	}
	if err := wait.ForHTTP(c.URL + "/ping").WithTimeout(30 * time.Second).WaitUntilReady(ctx); err != nil {
		return SiteInflux{}, fmt.Errorf("site %s: influxdb: %w", site, err)
	}
	return SiteInflux{Client: c, Existing: true}, nil
}

// StartMirrorMaker: an external stand's flows are the deployment's.
func (b *externalBackend) StartMirrorMaker(context.Context, []*FlowSpec) (*component, error) {
	return nil, fmt.Errorf("mirrormaker2: the external backend's flows are the deployment's own")
}

// Run starts a binary on the host (a producer of the stand's own).
func (b *externalBackend) Run(ctx context.Context, name, binary string, args, env []string, run RunMode) (runner, error) {
	return (&hostBackend{e: b.e}).Run(ctx, name, binary, args, env, run)
}

func (b *externalBackend) Logs() map[string]string { return map[string]string{} }

func (b *externalBackend) Versions() map[string]string {
	return map[string]string{"kafka": "external", "registry": "external", "influxdb": "external"}
}

func (b *externalBackend) Close(context.Context) error { return nil }
