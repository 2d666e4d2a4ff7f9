// backend.go connects the harness to package backend: the four backends
// it registers, the stand's side of backend.Host, and the capability
// checks steps make.

package harness

import (
	"context"
	"log/slog"
	"time"

	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/lsst-ts/teststand/harness/netfault"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/twmb/franz-go/pkg/kgo"

	// The backends register themselves.
	_ "github.com/lsst-ts/teststand/harness/backend/containers"
	_ "github.com/lsst-ts/teststand/harness/backend/embedded"
	_ "github.com/lsst-ts/teststand/harness/backend/external"
	_ "github.com/lsst-ts/teststand/harness/backend/process"
)

// newBackend makes the backend of e's stand.
func newBackend(e *Env, opts UpOptions) (backend.Backend, error) {
	return backend.New(backendHost{e}, backend.Options{Influxd: opts.Influxd, Influx: opts.Influx, Influx2: opts.Influx2})
}

// capability is e's backend as T, or an error saying what needs it and
// which backends have it.
func capability[T any](e *Env, what string) (T, error) {
	return backend.As[T](e.backend, e.Stand, what)
}

// backendHost is the running stand as its backend sees it.
type backendHost struct{ e *Env }

func (h backendHost) Stand() *stand.Stand  { return h.e.Stand }
func (h backendHost) Logger() *slog.Logger { return h.e.log }
func (h backendHost) TempDir() string      { return h.e.tmp }

func (h backendHost) Brokers(site string) []string {
	if se := h.e.Sites[site]; se != nil {
		return se.Brokers
	}
	return nil
}

func (h backendHost) WaitTopics(ctx context.Context, site string, want []string, d time.Duration, alive func() error) error {
	return h.e.waitTopics(ctx, site, want, d, alive)
}

func (h backendHost) Network() *netfault.Layer { return h.e.net }

func (h backendHost) Secrets() *standsec.Secrets { return h.e.sec }

func (h backendHost) ClientOpts(site string, role standsec.Role) ([]kgo.Opt, error) {
	return h.e.ClientOpts(site, role)
}

func (h backendHost) WaitReplicas(ctx context.Context, flows []*stand.FlowSpec, alive func() error) error {
	return h.e.waitReplicas(ctx, flows, alive)
}

// deployment reports whether e's sites are a deployment's (see
// backend.Deployment).
func (e *Env) deployment() bool {
	_, ok := e.backend.(backend.Deployment)
	return ok
}
