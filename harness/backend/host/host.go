package host

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/registry"
)

// StartInflux starts an influxd of the given major version: bin1 for 1.x
// when given, else the one influxd.FindMajor finds. It takes every client
// (1.x) or the operator token it was onboarded with (2.x).
func StartInflux(ctx context.Context, major int, bin1 string) (*influxd.Server, error) {
	return startInflux(ctx, major, bin1, nil)
}

// startInflux is StartInflux for a secured stand when sec is not nil: a
// 1.x influxd then takes only the run's InfluxDB admin (auth-enabled),
// and a 2.x one, which takes only its token anyway, is unchanged.
func startInflux(ctx context.Context, major int, bin1 string, sec *standsec.Secrets) (*influxd.Server, error) {
	bin := bin1
	if major == 2 || bin == "" {
		var err error
		if bin, err = influxd.FindMajor(major, ModuleRoots()...); err != nil {
			return nil, err
		}
	}
	switch {
	case major == 2:
		return influxd.StartV2(ctx, bin)
	case sec != nil:
		return influxd.StartAuth(ctx, bin, sec.InfluxUser, sec.InfluxPassword)
	}
	return influxd.Start(ctx, bin)
}

// Backend is the host's half of a backend: registries in this process,
// InfluxDB as an influxd on the host (the run's shared one, or the
// stand's own), and binaries as host processes. The embedded and process
// backends embed it.
type Backend struct {
	Host      backend.Host
	Opts      backend.Options
	ownInflux []*influxd.Server
}

// SharesInflux: a host backend's sites use the run's shared influxd.
func (b *Backend) SharesInflux() {}

// StartRegistry starts the project's registry in this process on the
// site's Kafka.
func (b *Backend) StartRegistry(ctx context.Context, r backend.RegistryRequest) (*registry.Server, string, error) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	opts, err := b.Host.ClientOpts(r.Site, standsec.Registry)
	if err != nil {
		return nil, "", fmt.Errorf("site %s: %s: %w", r.Site, r.What(), err)
	}
	var users map[string]string
	if sec, st := b.Host.Secrets(), b.Host.Stand(); sec != nil && st.Security.RegistryAuth() {
		users = map[string]string{sec.RegistryUser: sec.RegistryPassword}
	}
	srv, err := registry.Start(rctx, registry.Config{
		Brokers: b.Host.Brokers(r.Site), Topic: r.Topic, ReadOnly: r.ReadOnly, Addr: r.Addr, KafkaOpts: opts, Users: users,
		Logger: b.Host.Logger().With("component", r.What()+"@"+r.Site),
	})
	if err != nil {
		return nil, "", fmt.Errorf("site %s: %s on %s: %w", r.Site, r.What(), r.Topic, err)
	}
	return srv, srv.URL(), nil
}

// StartInfluxDB gives the site the run's shared influxd of the spec's
// major version, else one of the stand's own. A secured stand's site
// always has its own, which answers only the run's credentials.
func (b *Backend) StartInfluxDB(ctx context.Context, site string, spec *stand.InfluxSpec) (backend.SiteInflux, error) {
	sec := b.Host.Secrets()
	srv := b.Opts.Influx
	if spec.Major() == 2 {
		srv = b.Opts.Influx2
	}
	if srv != nil && sec == nil {
		return backend.SiteInflux{Client: srv.Client(), Shared: true}, nil
	}
	srv, err := startInflux(ctx, spec.Major(), b.Opts.Influxd, sec)
	if err != nil {
		return backend.SiteInflux{}, fmt.Errorf("site %s: %w", site, err)
	}
	b.ownInflux = append(b.ownInflux, srv)
	return backend.SiteInflux{Client: srv.Client()}, nil
}

// Run starts a binary on the host; run "container" needs the containers
// backend.
func (b *Backend) Run(ctx context.Context, name, binary string, args, env []string, run stand.RunMode) (backend.Process, error) {
	if run == stand.Container {
		return nil, fmt.Errorf("run container: %s (this stand: %s)", stand.InContainersOnly, b.Host.Stand().Backend)
	}
	return Run(ctx, name, binary, args, env)
}

// Logs: a host backend's processes are the stand's components.
func (b *Backend) Logs() map[string]string { return map[string]string{} }

// Versions names the project's registry and the influxd versions the
// stand's sites run.
func (b *Backend) Versions() map[string]string {
	out := map[string]string{"registry": "teststand"}
	for _, site := range b.Host.Stand().Sites {
		if site.InfluxDB == nil {
			continue
		}
		if site.InfluxDB.Major() == 2 {
			out["influxd2"] = influxd.Version2
		} else {
			out["influxd"] = influxd.Version
		}
	}
	return out
}

// Close stops the influxd servers the stand started.
func (b *Backend) Close(context.Context) error {
	var errs []error
	for _, s := range b.ownInflux {
		errs = append(errs, s.Stop())
	}
	return errors.Join(errs...)
}
