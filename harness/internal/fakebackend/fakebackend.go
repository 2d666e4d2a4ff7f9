package fakebackend

import (
	"context"
	"sync/atomic"

	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/lsst-ts/teststand/harness/backend/embedded"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/registry"
)

// Name is the backend's name in stands and --backend.
const Name stand.Backend = "fake"

// Calls counts what the harness asked of every fake backend.
var Calls struct {
	Kafka, Registries, InfluxDB, Closed atomic.Int32
}

func init() {
	backend.Register(Name, func(h backend.Host, opts backend.Options) backend.Backend {
		return &Backend{Backend: embedded.New(h, opts)}
	})
}

// Backend is the embedded backend, counted.
type Backend struct{ *embedded.Backend }

// StartKafka counts, then starts kfake clusters.
func (b *Backend) StartKafka(ctx context.Context) (map[string][]string, error) {
	Calls.Kafka.Add(1)
	return b.Backend.StartKafka(ctx)
}

// StartRegistry counts, then starts a registry in this process.
func (b *Backend) StartRegistry(ctx context.Context, r backend.RegistryRequest) (*registry.Server, string, error) {
	Calls.Registries.Add(1)
	return b.Backend.StartRegistry(ctx, r)
}

// StartInfluxDB counts, then gives the site an influxd.
func (b *Backend) StartInfluxDB(ctx context.Context, site string, spec *stand.InfluxSpec) (backend.SiteInflux, error) {
	Calls.InfluxDB.Add(1)
	return b.Backend.StartInfluxDB(ctx, site, spec)
}

// Close counts, then closes the embedded backend.
func (b *Backend) Close(ctx context.Context) error {
	Calls.Closed.Add(1)
	return b.Backend.Close(ctx)
}
