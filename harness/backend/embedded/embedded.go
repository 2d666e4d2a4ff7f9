package embedded

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/lsst-ts/teststand/harness/backend/host"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/kfault"
)

func init() {
	backend.Register(stand.Embedded, func(h backend.Host, opts backend.Options) backend.Backend { return New(h, opts) })
}

// New makes an embedded backend for h's stand (started by the harness).
func New(h backend.Host, opts backend.Options) *Backend {
	return &Backend{Backend: host.Backend{Host: h, Opts: opts}, kafka: map[string]*kfake.Cluster{}}
}

// Backend runs each site's Kafka as a kfake cluster.
type Backend struct {
	host.Backend
	kafka map[string]*kfake.Cluster

	mu           sync.Mutex
	commitFaults map[string]*kfault.CommitFault
}

// StartKafka starts each site's kfake cluster.
func (b *Backend) StartKafka(ctx context.Context) (map[string][]string, error) {
	st := b.Host.Stand()
	out := map[string][]string{}
	for _, name := range st.SiteNames() {
		spec := st.Sites[name].Kafka
		kopts := []kfake.Opt{kfake.NumBrokers(spec.Brokers)}
		if spec.AutoCreateTopics {
			kopts = append(kopts, kfake.AllowAutoTopicCreation())
		}
		var admin []kgo.Opt
		if sec := b.Host.Secrets(); sec != nil {
			kopts = append(kopts, secured(sec, st.Security.TLS())...)
			var err error
			if admin, err = standsec.Opts(sec.Kafka(standsec.Admin), st.Security.TLS()); err != nil {
				return nil, fmt.Errorf("site %s: kafka: %w", name, err)
			}
		}
		c, err := kfake.NewCluster(kopts...)
		if err != nil {
			return nil, fmt.Errorf("site %s: kafka: %w", name, err)
		}
		if spec.AutoCreateTopics {
			kfault.AutoCreateLikeKafka(c)
		}
		b.kafka[name] = c
		if err := wait.ForKafkaMetadata(c.ListenAddrs(), spec.Brokers).WithOpts(admin...).WaitUntilReady(ctx); err != nil {
			return nil, fmt.Errorf("site %s: %w", name, err)
		}
		out[name] = c.ListenAddrs()
	}
	return out, nil
}

// FailCommits makes the site's kfake refuse (or accept again) consumer
// group offset commits: a replicator copies records but cannot record
// its progress, so a restarted one copies them again.
func (b *Backend) FailCommits(site string, fail bool) error {
	c := b.kafka[site]
	if c == nil {
		return fmt.Errorf("unknown site %q", site)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.commitFaults == nil {
		b.commitFaults = map[string]*kfault.CommitFault{}
	}
	f := b.commitFaults[site]
	if f == nil {
		f = kfault.FailOffsetCommits(c)
		b.commitFaults[site] = f
	}
	f.Set(fail)
	return nil
}

// KillBroker removes broker n of the site's kfake cluster: its listener
// closes and its partitions get other leaders. kfake cannot remove its
// last broker, so a whole site's Kafka cannot go down on this backend.
func (b *Backend) KillBroker(site string, n int) error {
	c := b.kafka[site]
	if c == nil {
		return fmt.Errorf("unknown site %q", site)
	}
	if err := c.RemoveNode(int32(n - 1)); err != nil {
		return fmt.Errorf("site %s: broker %d: %w", site, n, err)
	}
	return nil
}

// RestartBroker adds broker n back on its port.
func (b *Backend) RestartBroker(ctx context.Context, site string, n int) error {
	c := b.kafka[site]
	if c == nil {
		return fmt.Errorf("unknown site %q", site)
	}
	addrs := b.Host.Brokers(site) // as StartKafka listed them: in node order
	if n < 1 || n > len(addrs) {
		return fmt.Errorf("site %s has no broker %d (it has %d)", site, n, len(addrs))
	}
	_, port, _ := net.SplitHostPort(addrs[n-1])
	p, _ := strconv.Atoi(port)
	if _, _, err := c.AddNode(int32(n-1), p); err != nil {
		return fmt.Errorf("site %s: broker %d: %w", site, n, err)
	}
	return nil
}

// StartMirrorMaker: MirrorMaker 2 needs real Kafka (stand validation
// says so first).
func (b *Backend) StartMirrorMaker(context.Context, []*stand.FlowSpec) (backend.MirrorMaker, error) {
	return backend.MirrorMaker{}, fmt.Errorf("mirrormaker2: the %s backend has no real Kafka for it (backend process or containers has)", b.Host.Stand().Backend)
}

// Versions names kfake, the project's registry and the host's influxd.
func (b *Backend) Versions() map[string]string {
	out := b.Backend.Versions()
	out["kafka"] = "kfake (franz-go)"
	return out
}

// Close closes the clusters, then what the host runs.
func (b *Backend) Close(ctx context.Context) error {
	for _, c := range b.kafka {
		c.Close()
	}
	return b.Backend.Close(ctx)
}

// NetworkOnHost: every part of an embedded stand listens on loopback.
func (b *Backend) NetworkOnHost() {}

// secured are the kfake options of a secured site: SASL with every
// user of the run's secrets (the admin a superuser, the others bound by
// their KafkaUser's ACLs, enforced), and TLS with the run's certificate.
func secured(sec *standsec.Secrets, withTLS bool) []kfake.Opt {
	opts := []kfake.Opt{kfake.EnableSASL(), kfake.EnableACLs()}
	for _, u := range sec.Users() {
		if u.Super {
			opts = append(opts, kfake.Superuser("SCRAM-SHA-512", u.Name, u.Password))
			continue
		}
		var acls []kfake.ACL
		for _, a := range u.ACLs {
			for _, op := range a.Operations() {
				acls = append(acls, kfake.ACL{Resource: a.ResourceType(), Name: a.Name, Pattern: a.Pattern(), Operation: op, Allow: true})
			}
		}
		opts = append(opts, kfake.User("SCRAM-SHA-512", u.Name, u.Password, acls...))
	}
	if withTLS {
		opts = append(opts, kfake.TLS(sec.ServerTLS()))
	}
	return opts
}
