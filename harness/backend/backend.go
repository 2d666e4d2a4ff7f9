package backend

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lsst-ts/teststand/harness/netfault"
	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/registry"
)

// Backend is what runs a stand's sites: their Kafka, registries and
// InfluxDB, MirrorMaker 2 where it can, and the project's binaries. The
// harness asks the stand's backend for each site's parts in its phases,
// so a backend knows nothing of flows, sinks or producers the harness
// runs itself.
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
	StartInfluxDB(ctx context.Context, site string, spec *stand.InfluxSpec) (SiteInflux, error)
	// StartMirrorMaker runs flows in one MirrorMaker 2, counting it
	// started once it writes heartbeats into every target; a backend
	// that cannot returns an error naming itself.
	StartMirrorMaker(ctx context.Context, flows []*stand.FlowSpec) (MirrorMaker, error)
	// Run starts one of the project's binaries for a component: on the
	// host, or in the components image with run "container".
	Run(ctx context.Context, name, binary string, args, env []string, run stand.RunMode) (Process, error)
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

// Process is something a backend runs outside the harness's process: a
// binary (proc.Process), a container, MirrorMaker 2.
type Process interface {
	// Done is closed once it has exited.
	Done() <-chan struct{}
	// Stop asks it to end, and ends it after grace.
	Stop(grace time.Duration) error
	// Kill ends it at once.
	Kill()
	// Alive is nil while it runs, else why it is not running.
	Alive() error
	// Tail is the last n bytes of its output.
	Tail(n int) string
}

// MirrorMaker is a running MirrorMaker 2.
type MirrorMaker struct {
	Process Process
	// Settle waits until MirrorMaker 2 has taken up what the stand
	// created since it started: the replica of every topic its flows
	// replicate.
	Settle func(ctx context.Context) error
}

// Host is what a backend may ask of the running stand it is made for.
type Host interface {
	// Stand is the stand's model.
	Stand() *stand.Stand
	// Logger receives the backend's logs.
	Logger() *slog.Logger
	// TempDir is the stand's own directory for files its components
	// read (rules, configs), removed at Down.
	TempDir() string
	// Brokers are a site's brokers, once StartKafka has returned.
	Brokers(site string) []string
	// WaitTopics waits until every topic in want exists at site with a
	// leader on every partition, for at most d; alive fails it early.
	WaitTopics(ctx context.Context, site string, want []string, d time.Duration, alive func() error) error
	// Secrets are a secured stand's secrets for this run, nil for an open
	// stand.
	Secrets() *standsec.Secrets
	// ClientOpts are what a component of kind role at site takes to
	// reach the site's Kafka beyond its brokers: a secured stand's user,
	// the fault layer's link.
	ClientOpts(site string, role standsec.Role) ([]kgo.Opt, error)
	// Network is the stand's network fault layer, nil when its backend
	// has none (see NetworkFaulter).
	Network() *netfault.Layer
	// WaitReplicas waits until, at each flow's target, the replica of
	// every topic the flow replicates at its source exists.
	WaitReplicas(ctx context.Context, flows []*stand.FlowSpec, alive func() error) error
}

// Options are what a run shares among its stands' backends.
type Options struct {
	// Influxd is the influxd 1.x binary; "" finds it.
	Influxd string
	// Influx and Influx2 are running influxd servers (1.x, 2.x) the
	// sites of a SharedInflux backend share instead of starting one
	// each.
	Influx, Influx2 *influxd.Server
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

// What names the registry in messages.
func (r RegistryRequest) What() string {
	if r.Alias != "" {
		return "remote registry for " + r.Alias
	}
	return "registry"
}

// SiteInflux is a site's running InfluxDB.
type SiteInflux struct {
	Client *influxd.Client
	// Shared is set when the influxd serves other sites or stands too:
	// the site's databases are then prefixed and dropped at Down.
	Shared bool
	// Existing is set for a deployment's InfluxDB: its databases must be
	// there already, and none is created.
	Existing bool
}

// Factory makes a stand's backend. It must not start anything: the
// harness starts it phase by phase, and asks a backend made for an empty
// stand which capabilities it has.
type Factory func(h Host, opts Options) Backend

var (
	mu        sync.Mutex
	factories = map[stand.Backend]Factory{}
)

// Register makes a backend known by name, to stands (their backend
// field and --backend) and to the harness. Backends register from an
// init function in their own package; registering a name twice panics.
func Register(name stand.Backend, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := factories[name]; dup {
		panic("backend: " + string(name) + " registered twice")
	}
	factories[name] = f
	stand.AddBackend(name)
}

// New makes the backend of h's stand.
func New(h Host, opts Options) (Backend, error) {
	st := h.Stand()
	mu.Lock()
	f := factories[st.Backend]
	mu.Unlock()
	if f == nil {
		return nil, fmt.Errorf("stand %s: no backend %q is registered (have %s)", st.File, st.Backend, strings.Join(Names(), ", "))
	}
	return f(h, opts), nil
}

// Names are the registered backends, sorted.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for n := range factories {
		out = append(out, string(n))
	}
	slices.Sort(out)
	return out
}

// Has reports whether the backend registered as name is a T.
func Has[T any](name stand.Backend) bool {
	mu.Lock()
	f := factories[name]
	mu.Unlock()
	if f == nil {
		return false
	}
	_, ok := f(emptyHost{&stand.Stand{Backend: name}}, Options{}).(T)
	return ok
}

// With names the registered backends that are a T.
func With[T any]() []string {
	var out []string
	for _, n := range Names() {
		if Has[T](stand.Backend(n)) {
			out = append(out, n)
		}
	}
	return out
}

// As is b as T, or an error saying what needs it and which backends have
// it.
func As[T any](b Backend, st *stand.Stand, what string) (T, error) {
	if c, ok := b.(T); ok {
		return c, nil
	}
	var zero T
	return zero, fmt.Errorf("%s need the %s backend (this stand: %s)", what, strings.Join(With[T](), " or "), st.Backend)
}

// emptyHost is the host of a backend made only to learn its
// capabilities.
type emptyHost struct{ st *stand.Stand }

func (h emptyHost) Stand() *stand.Stand        { return h.st }
func (h emptyHost) Logger() *slog.Logger       { return slog.New(slog.DiscardHandler) }
func (h emptyHost) TempDir() string            { return "" }
func (h emptyHost) Network() *netfault.Layer   { return nil }
func (h emptyHost) Secrets() *standsec.Secrets { return nil }
func (h emptyHost) ClientOpts(string, standsec.Role) ([]kgo.Opt, error) {
	return nil, nil
}
func (h emptyHost) Brokers(site string) []string { return nil }
func (h emptyHost) WaitTopics(context.Context, string, []string, time.Duration, func() error) error {
	return fmt.Errorf("no stand")
}
func (h emptyHost) WaitReplicas(context.Context, []*stand.FlowSpec, func() error) error {
	return fmt.Errorf("no stand")
}

// WaitHeartbeats waits until MirrorMaker 2 has written heartbeats into
// the target of every flow that emits them: the sign, shared by every
// backend that runs it, that MirrorMaker 2 has started its connectors.
func WaitHeartbeats(ctx context.Context, h Host, flows []*stand.FlowSpec, alive func() error) error {
	for _, f := range flows {
		if f.Heartbeats != nil && f.Heartbeats.Duration <= 0 {
			continue
		}
		if err := h.WaitTopics(ctx, f.Target.Value, []string{"heartbeats"}, 3*time.Minute, alive); err != nil {
			return err
		}
	}
	return nil
}
