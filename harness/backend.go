// backend.go holds the Backend interface, what runs a stand's sites, the
// registry of backends by name, and the optional capabilities steps ask a
// backend for. Each backend registers itself from its own file:
// backend_embedded.go, backend_external.go, process.go and
// containers_backend.go.

package harness

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/registry"
)

// Backend is what runs a stand's sites: their Kafka, registries and
// InfluxDB, MirrorMaker 2 where it can, and the project's binaries. Up
// asks the stand's backend for each site's parts in its phases, so a
// backend knows nothing of flows, sinks or producers the harness runs
// itself. A backend's methods get the stand's Env it was made for (see
// BackendFactory); it uses the package's components and runners, so
// backends live in package harness.
type Backend interface {
	// StartKafka brings up every site's Kafka, all at once where a
	// cluster takes seconds to start, and returns each site's brokers by
	// site name, each answering metadata.
	StartKafka(ctx context.Context) (map[string][]string, error)
	// StartRegistry starts a site's own registry (r.Alias "") or its
	// remote registry for r.Alias and returns its URL; srv is the
	// registry when it runs in the harness's process, else nil.
	StartRegistry(ctx context.Context, r RegistryRequest) (srv *registry.Server, url string, err error)
	// StartInfluxDB gives a site its InfluxDB.
	StartInfluxDB(ctx context.Context, site string, spec *InfluxSpec) (SiteInflux, error)
	// StartMirrorMaker runs flows in one MirrorMaker 2 and returns it as
	// a component of kind "replication" (not yet registered); a backend
	// that cannot returns an error naming itself.
	StartMirrorMaker(ctx context.Context, flows []*FlowSpec) (*component, error)
	// Run starts one of the project's binaries for a component: on the
	// host, or in the components image with run "container".
	Run(ctx context.Context, name, binary string, args, env []string, run RunMode) (runner, error)
	// Logs are the output of what the backend runs apart from the
	// stand's components (Kafka nodes, containers), by name, for a
	// failed run's report.
	Logs() map[string]string
	// Versions names what the backend runs for the stand ("kafka",
	// "registry", "influxd", ...), for a run's report.
	Versions() map[string]string
	// Close stops everything the backend started.
	Close(ctx context.Context) error
}

// RegistryRequest is a registry a site needs.
type RegistryRequest struct {
	Site string
	// Alias is "" for the site's own registry, else the source whose
	// schemas the remote registry serves.
	Alias string
	// Topic is the registry's storage topic; ReadOnly for a remote one.
	Topic    string
	ReadOnly bool
	// Addr is where to listen ("" for a free port); a restarted
	// registry keeps its address.
	Addr string
}

// SiteInflux is a site's running InfluxDB.
type SiteInflux struct {
	Client *influxd.Client
	// Shared is set when the influxd serves other sites or stands too:
	// the site's databases are then prefixed (see Env.Database) and
	// dropped at Down.
	Shared bool
	// Existing is set for a deployment's InfluxDB: its databases must be
	// there already, and none is created.
	Existing bool
}

// BackendFactory makes a stand's backend. It must not start anything:
// Up starts it phase by phase, and Versions is asked of a backend made
// for a stand that is not up.
type BackendFactory func(e *Env, opts UpOptions) Backend

var (
	backendsMu sync.Mutex
	backends   = map[stand.Backend]BackendFactory{}
)

// RegisterBackend makes a backend known by name, to stands (their
// backend field and --backend) and to Up. Backends register from an init
// function in their own file; registering a name twice panics.
func RegisterBackend(name stand.Backend, f BackendFactory) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if _, dup := backends[name]; dup {
		panic("harness: backend " + string(name) + " registered twice")
	}
	backends[name] = f
	stand.AddBackend(name)
}

// newBackend makes the backend of e's stand.
func newBackend(e *Env, opts UpOptions) (Backend, error) {
	backendsMu.Lock()
	f := backends[e.Stand.Backend]
	backendsMu.Unlock()
	if f == nil {
		return nil, fmt.Errorf("stand %s: no backend %q is registered (have %s)", e.Stand.File, e.Stand.Backend, strings.Join(backendNames(), ", "))
	}
	return f(e, opts), nil
}

func backendNames() []string {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	var out []string
	for n := range backends {
		out = append(out, string(n))
	}
	slices.Sort(out)
	return out
}

// CommitFaulter is a backend whose Kafka can refuse consumer group
// offset commits, as an unreachable group coordinator would (the
// embedded backend's kfake).
type CommitFaulter interface {
	FailCommits(site string, fail bool) error
}

// ContainerActor is a backend that runs sites' services as containers
// and can pause, unpause, stop, start, disconnect or reconnect them.
type ContainerActor interface {
	ContainerAction(ctx context.Context, service, site, action string) error
}

// capability is e's backend as T, or an error saying what needs it and
// which backends have it.
func capability[T any](e *Env, what string) (T, error) {
	if c, ok := e.backend.(T); ok {
		return c, nil
	}
	var zero T
	return zero, fmt.Errorf("%s need the %s backend (this stand: %s)", what, strings.Join(backendsWith[T](), " or "), e.Stand.Backend)
}

// backendsWith names the registered backends that are a T, made for an
// empty stand (factories start nothing).
func backendsWith[T any]() []string {
	var out []string
	for _, n := range backendNames() {
		backendsMu.Lock()
		f := backends[stand.Backend(n)]
		backendsMu.Unlock()
		if _, ok := f(&Env{Stand: &Stand{Backend: stand.Backend(n)}}, UpOptions{}).(T); ok {
			out = append(out, n)
		}
	}
	return out
}
