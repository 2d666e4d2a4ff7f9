package external

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/lsst-ts/teststand/harness/backend/host"
	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/registry"
)

func init() {
	backend.Register(stand.External, func(h backend.Host, _ backend.Options) backend.Backend { return &Backend{h: h} })
}

// Backend connects to a deployment's sites.
type Backend struct{ h backend.Host }

// Deployment: the sites are a deployment's.
func (b *Backend) Deployment() {}

// StartKafka waits until each site's Kafka answers metadata.
func (b *Backend) StartKafka(ctx context.Context) (map[string][]string, error) {
	st := b.h.Stand()
	out := map[string][]string{}
	for _, name := range st.SiteNames() {
		spec := st.Sites[name]
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
func (b *Backend) StartRegistry(ctx context.Context, r backend.RegistryRequest) (*registry.Server, string, error) {
	spec := b.h.Stand().Sites[r.Site]
	var url string
	if r.Alias == "" {
		url = spec.Registry.URL
	} else {
		url = spec.Remote(r.Alias).URL
	}
	url = strings.TrimRight(url, "/")
	if err := wait.ForHTTP(url + "/subjects").WithTimeout(30 * time.Second).WaitUntilReady(ctx); err != nil {
		return nil, "", fmt.Errorf("site %s: %s: %w", r.Site, r.What(), err)
	}
	return nil, url, nil
}

// StartInfluxDB waits until the site's InfluxDB answers /ping; the
// harness then checks that it has the stand's databases.
func (b *Backend) StartInfluxDB(ctx context.Context, site string, spec *stand.InfluxSpec) (backend.SiteInflux, error) {
	c := &influxd.Client{URL: strings.TrimRight(spec.URL, "/")}
	if spec.Major() == 2 {
		c.Org, c.Token = spec.Org, spec.Token
	}
	if err := wait.ForHTTP(c.URL + "/ping").WithTimeout(30 * time.Second).WaitUntilReady(ctx); err != nil {
		return backend.SiteInflux{}, fmt.Errorf("site %s: influxdb: %w", site, err)
	}
	return backend.SiteInflux{Client: c, Existing: true}, nil
}

// StartMirrorMaker: an external stand's flows are the deployment's.
func (b *Backend) StartMirrorMaker(context.Context, []*stand.FlowSpec) (backend.MirrorMaker, error) {
	return backend.MirrorMaker{}, fmt.Errorf("mirrormaker2: the external backend's flows are the deployment's own")
}

// Run starts a binary on the host (a producer of the stand's own).
func (b *Backend) Run(ctx context.Context, name, binary string, args, env []string, run stand.RunMode) (backend.Process, error) {
	return (&host.Backend{Host: b.h}).Run(ctx, name, binary, args, env, run)
}

// Logs: the deployment's services log where the deployment keeps logs.
func (b *Backend) Logs() map[string]string { return map[string]string{} }

// Versions: the deployment's, unknown to the stand.
func (b *Backend) Versions() map[string]string {
	return map[string]string{"kafka": "external", "registry": "external", "influxdb": "external"}
}

// Close: nothing was started.
func (b *Backend) Close(context.Context) error { return nil }
