package process

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/lsst-ts/teststand/harness/backend/host"
	"github.com/lsst-ts/teststand/harness/kafkaproc"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/harness/telegraf"
	"github.com/lsst-ts/teststand/internal/kafkasec"
)

func init() {
	backend.Register(stand.Process, func(h backend.Host, opts backend.Options) backend.Backend {
		return &Backend{Backend: host.Backend{Host: h, Opts: opts}, clusters: map[string]*kafkaproc.Cluster{}}
	})
}

// Backend runs each site's Kafka as an Apache Kafka cluster and
// MirrorMaker 2 as a process; the rest as the host does.
type Backend struct {
	host.Backend
	clusters map[string]*kafkaproc.Cluster
}

// StartKafka starts every site's cluster at once (a JVM per broker takes
// seconds to start; sites need not wait for each other).
func (b *Backend) StartKafka(ctx context.Context) (map[string][]string, error) {
	lib, err := kafkaproc.FindLib(host.ModuleRoots()...)
	if err != nil {
		return nil, fmt.Errorf("backend process: %w", err)
	}
	st := b.Host.Stand()
	names := st.SiteNames()
	clusters := make([]*kafkaproc.Cluster, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		cfg := kafkaproc.Config{Lib: lib, Nodes: st.Sites[name].Kafka.Brokers, AutoCreateTopics: st.Sites[name].Kafka.AutoCreateTopics}
		if l := b.linkListener(name); l != nil {
			cfg.Listeners = []kafkaproc.Listener{*l}
		}
		if sec := b.Host.Secrets(); sec != nil {
			cfg.Security = &kafkaproc.Security{TLS: st.Security.TLS(), CertFile: sec.CertFile, KeyFile: sec.KeyFile,
				BrokerPassword: sec.BrokerPassword, Users: sec.Users()}
		}
		wg.Go(func() {
			clusters[i], errs[i] = kafkaproc.Start(ctx, cfg)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("site %s: %w", name, errs[i])
			}
		})
	}
	wg.Wait()
	out := map[string][]string{}
	for i, name := range names {
		if clusters[i] != nil {
			b.clusters[name] = clusters[i]
			out[name] = clusters[i].Seeds()
		}
	}
	return out, errors.Join(errs...)
}

// linkListener is the name of the listener MirrorMaker 2 reads a site's
// Kafka through.
const linkListener = "LINK"

// linkListener is the listener a site's brokers advertise the fault
// layer's proxies on, for MirrorMaker 2 to read the site across the link
// to the site it replicates into; nil if MM2 reads nothing from the site
// or the stand has no fault layer. The in-process replicator needs none:
// it dials every broker through the layer itself.
func (b *Backend) linkListener(site string) *kafkaproc.Listener {
	layer, to := b.Host.Network(), b.Host.Stand().MM2Link(site)
	if layer == nil || to == "" {
		return nil
	}
	link := layer.Link(stand.NetTarget{Service: stand.NetLink, From: site, To: to}.Link())
	return &kafkaproc.Listener{Name: linkListener, Advertise: func(_ int, addr string) (string, error) { return link.Addr(addr) }}
}

// StartMirrorMaker runs the flows in one MirrorMaker 2 process. It
// counts as started once MM2 has written heartbeats into every target;
// settling waits until every source topic a flow replicates has its
// replica at the target.
func (b *Backend) StartMirrorMaker(ctx context.Context, flows []*stand.FlowSpec) (backend.MirrorMaker, error) {
	lib, err := kafkaproc.FindLib(host.ModuleRoots()...)
	if err != nil {
		return backend.MirrorMaker{}, fmt.Errorf("mirrormaker2: %w", err)
	}
	st := b.Host.Stand()
	brokers := map[string][]string{}
	for _, name := range st.SiteNames() {
		brokers[name] = b.Host.Brokers(name)
		if seeds := b.clusters[name].ListenerSeeds(linkListener); seeds != nil {
			brokers[name] = seeds // across the link, through the fault layer
		}
	}
	props := st.MirrorMakerProperties(brokers)
	if sec := b.Host.Secrets(); sec != nil {
		// Every cluster as Sasquatch's MirrorMaker 2 reaches its source:
		// the replicator KafkaUser by SCRAM-SHA-512, over TLS.
		more, err := securityProperties(flows, sec.KafkaOn(standsec.Replicator, st.Security.TLS()))
		if err != nil {
			return backend.MirrorMaker{}, fmt.Errorf("mirrormaker2: %w", err)
		}
		props += more
	}
	mm, err := kafkaproc.StartMirrorMaker(kafkaproc.Config{Lib: lib}, props)
	if err != nil {
		return backend.MirrorMaker{}, fmt.Errorf("mirrormaker2: %w", err)
	}
	alive := mm.Process().Alive
	if err := backend.WaitHeartbeats(ctx, b.Host, flows, alive); err != nil {
		_ = mm.Stop()
		return backend.MirrorMaker{}, fmt.Errorf("mirrormaker2 did not start: %w\n%s", err, mm.Logs(4000))
	}
	return backend.MirrorMaker{
		Process: mirrorMaker{mm},
		Settle: func(ctx context.Context) error {
			if err := b.Host.WaitReplicas(ctx, flows, alive); err != nil {
				return fmt.Errorf("mirrormaker2: %w\n%s", err, mm.Logs(4000))
			}
			return nil
		},
	}, nil
}

// securityProperties are the client security of every cluster the flows
// name, as MirrorMaker 2 takes it (<alias>.security.protocol, ...).
func securityProperties(flows []*stand.FlowSpec, c kafkasec.Config) (string, error) {
	var b strings.Builder
	done := map[string]bool{}
	for _, f := range flows {
		for _, alias := range []string{f.Source.Value, f.Target.Value} {
			if done[alias] {
				continue
			}
			done[alias] = true
			props, err := c.JavaProperties(alias + ".")
			if err != nil {
				return "", err
			}
			for _, kv := range props {
				fmt.Fprintf(&b, "%s = %s\n", kv[0], strings.ReplaceAll(kv[1], `\`, `\\`))
			}
		}
	}
	return b.String(), nil
}

// mirrorMaker is MirrorMaker 2's process, stopped the way kafkaproc
// stops it (its own grace, then its directory removed).
type mirrorMaker struct{ mm *kafkaproc.MirrorMaker }

func (m mirrorMaker) Done() <-chan struct{}    { return m.mm.Process().Done() }
func (m mirrorMaker) Stop(time.Duration) error { return m.mm.Stop() }
func (m mirrorMaker) Kill()                    { m.mm.Process().Kill() }
func (m mirrorMaker) Alive() error             { return m.mm.Process().Alive() }
func (m mirrorMaker) Tail(n int) string        { return m.mm.Logs(n) }

// KillBroker kills broker n of the site's Kafka with SIGKILL.
func (b *Backend) KillBroker(site string, n int) error {
	c := b.clusters[site]
	if c == nil {
		return fmt.Errorf("unknown site %q", site)
	}
	return c.Kill(n)
}

// RestartBroker starts broker n of the site's Kafka again on its data.
func (b *Backend) RestartBroker(ctx context.Context, site string, n int) error {
	c := b.clusters[site]
	if c == nil {
		return fmt.Errorf("unknown site %q", site)
	}
	return c.Restart(ctx, n)
}

// Logs are the Kafka nodes' output, by site.
func (b *Backend) Logs() map[string]string {
	out := map[string]string{}
	for name, c := range b.clusters {
		out["kafka-"+name] = c.Logs(1 << 30)
	}
	return out
}

// Versions names Apache Kafka's, and MirrorMaker 2's and Telegraf's
// where the stand runs them, with the versions the jars and binary
// report.
func (b *Backend) Versions() map[string]string {
	out := b.Backend.Versions()
	out["kafka"] = "Apache Kafka " + jarVersion("kafka_2.13-") + " (KRaft)"
	st := b.Host.Stand()
	if len(st.MM2Flows()) > 0 {
		out["mirrormaker2"] = "MirrorMaker 2 " + jarVersion("connect-mirror-")
	}
	for _, k := range st.Sinks {
		if k.Run == stand.Telegraf {
			out["telegraf"] = telegrafVersion()
		}
	}
	return out
}

// Close stops the clusters, then what the host runs.
func (b *Backend) Close(ctx context.Context) error {
	var errs []error
	for _, c := range b.clusters {
		errs = append(errs, c.Stop())
	}
	return errors.Join(append(errs, b.Backend.Close(ctx))...)
}

// jarVersion is the version in the name of the first jar of the Kafka
// lib directory starting with prefix ("kafka_2.13-" gives "4.1.1"), or
// "unknown".
func jarVersion(prefix string) string {
	lib, err := kafkaproc.FindLib(host.ModuleRoots()...)
	if err != nil {
		return "unknown"
	}
	m, _ := filepath.Glob(filepath.Join(lib, prefix+"*.jar"))
	for _, p := range m {
		v := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), prefix), ".jar")
		if v != "" && v[0] >= '0' && v[0] <= '9' {
			return v
		}
	}
	return "unknown"
}

// telegrafVersion is what `telegraf --version` prints.
func telegrafVersion() string {
	bin, err := telegraf.Find(host.ModuleRoots()...)
	if err != nil {
		return "unknown"
	}
	return telegraf.BinaryVersion(bin)
}

// NetworkOnHost: the brokers, MirrorMaker 2, Telegraf and the binaries
// talk over loopback; a site's brokers advertise the fault layer's
// proxies on a listener of each link out of the site.
func (b *Backend) NetworkOnHost() {}
