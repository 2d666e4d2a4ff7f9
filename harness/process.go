package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/kafkaproc"
	"github.com/lsst-ts/teststand/harness/telegraf"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/replication"
)

// The process backend: each site's Kafka is a real Apache Kafka cluster,
// and flows and sinks may run as real MirrorMaker 2 and Telegraf, so that
// the same features check the systems production runs.

// mirrorMakerName is the component that runs every flow of a stand whose
// run is mirrormaker2: one MirrorMaker 2 process, as deployed, since
// several would form one Connect cluster per pair and fight over its
// configuration.
const mirrorMakerName = string(MirrorMaker2)

func init() {
	RegisterBackend(Process, func(e *Env, opts UpOptions) Backend {
		return &processBackend{hostBackend: hostBackend{e: e, opts: opts}, clusters: map[string]*kafkaproc.Cluster{}}
	})
}

// processBackend runs each site's Kafka as an Apache Kafka cluster and
// MirrorMaker 2 as a process; the rest as the embedded backend does.
type processBackend struct {
	hostBackend
	clusters map[string]*kafkaproc.Cluster
}

// StartKafka starts every site's cluster at once (a JVM per broker takes
// seconds to start; sites need not wait for each other).
func (b *processBackend) StartKafka(ctx context.Context) (map[string][]string, error) {
	lib, err := kafkaproc.FindLib(moduleRoots()...)
	if err != nil {
		return nil, fmt.Errorf("backend process: %w", err)
	}
	st := b.e.Stand
	names := st.SiteNames()
	clusters := make([]*kafkaproc.Cluster, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			clusters[i], errs[i] = kafkaproc.Start(ctx, kafkaproc.Config{Lib: lib, Nodes: st.Sites[name].Kafka.Brokers, AutoCreateTopics: st.Sites[name].Kafka.AutoCreateTopics})
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

// StartMirrorMaker runs the flows in one MirrorMaker 2 process. It
// counts as started once MM2 has written heartbeats into every target;
// settling waits until every source topic a flow replicates has its
// replica at the target.
func (b *processBackend) StartMirrorMaker(ctx context.Context, flows []*FlowSpec) (*component, error) {
	e := b.e
	lib, err := kafkaproc.FindLib(moduleRoots()...)
	if err != nil {
		return nil, fmt.Errorf("mirrormaker2: %w", err)
	}
	brokers := map[string][]string{}
	for name, se := range e.Sites {
		brokers[name] = se.Brokers
	}
	props := e.Stand.MirrorMakerProperties(brokers)
	mm, err := kafkaproc.StartMirrorMaker(kafkaproc.Config{Lib: lib}, props)
	if err != nil {
		return nil, fmt.Errorf("mirrormaker2: %w", err)
	}
	c := &component{name: mirrorMakerName, kind: "replication", proc: mm.Process(), done: mm.Process().Done()}
	c.cancel = func() { _ = mm.Stop() }
	c.settle = func(ctx context.Context) error { return e.settleMirrorMaker(ctx, flows, mm) }
	for _, f := range flows {
		if f.Heartbeats != nil && f.Heartbeats.Duration <= 0 {
			continue
		}
		if err := e.waitTopics(ctx, f.Target.Value, []string{"heartbeats"}, 3*time.Minute, mm.Process().Alive); err != nil {
			_ = mm.Stop()
			return nil, fmt.Errorf("mirrormaker2 did not start: %w\n%s", err, mm.Logs(4000))
		}
	}
	return c, nil
}

// Logs are the Kafka nodes' output, by site.
func (b *processBackend) Logs() map[string]string {
	out := map[string]string{}
	for name, c := range b.clusters {
		out["kafka-"+name] = c.Logs(1 << 30)
	}
	return out
}

// Versions names Apache Kafka's, and MirrorMaker 2's and Telegraf's
// where the stand runs them, with the versions the jars and binary
// report.
func (b *processBackend) Versions() map[string]string {
	out := b.hostBackend.Versions()
	out["kafka"] = "Apache Kafka " + jarVersion("kafka_2.13-") + " (KRaft)"
	if len(b.e.Stand.MM2Flows()) > 0 {
		out["mirrormaker2"] = "MirrorMaker 2 " + jarVersion("connect-mirror-")
	}
	for _, k := range b.e.Stand.Sinks {
		if k.Run == Telegraf {
			out["telegraf"] = telegrafVersion()
		}
	}
	return out
}

// Close stops the clusters, then what the host runs.
func (b *processBackend) Close(ctx context.Context) error {
	var errs []error
	for _, c := range b.clusters {
		errs = append(errs, c.Stop())
	}
	return errors.Join(append(errs, b.hostBackend.Close(ctx))...)
}

// startMirrorMaker runs the stand's mirrormaker2 flows in one MirrorMaker
// 2 on the backend.
func (e *Env) startMirrorMaker(ctx context.Context) error {
	flows := e.Stand.MM2Flows()
	if len(flows) == 0 {
		return nil
	}
	c, err := e.backend.StartMirrorMaker(ctx, flows)
	if err != nil {
		return err
	}
	e.register(c)
	return nil
}

// settleMirrorMaker waits until MM2 has created, at each flow's target,
// the replica of every topic the flow replicates at its source.
func (e *Env) settleMirrorMaker(ctx context.Context, flows []*FlowSpec, mm *kafkaproc.MirrorMaker) error {
	if err := e.waitReplicas(ctx, flows, mm.Process().Alive); err != nil {
		return fmt.Errorf("mirrormaker2: %w\n%s", err, mm.Logs(4000))
	}
	return nil
}

// waitReplicas waits until, at each flow's target, the replica of every
// topic the flow replicates at its source exists; alive fails the wait
// early when what should make them has gone.
func (e *Env) waitReplicas(ctx context.Context, flows []*FlowSpec, alive func() error) error {
	for _, f := range flows {
		flow, err := replication.NewFlow(f.Source.Value, f.Target.Value, f.Topics, f.Exclude, f.Policy, f.Separator)
		if err != nil {
			return err
		}
		topics, err := e.topics(ctx, f.Source.Value)
		if err != nil {
			return err
		}
		// The topics the source's producers created may not all be in
		// its broker's metadata yet: count them in by name as well.
		topics = append(topics, e.producedTopics(f.Source.Value)...)
		var want []string
		for _, t := range topics {
			if flow.Replicates(t) {
				want = append(want, flow.RemoteTopic(t))
			}
		}
		if err := e.waitTopics(ctx, f.Target.Value, want, 2*time.Minute, alive); err != nil {
			return fmt.Errorf("flow %s: %w", f.Name, err)
		}
	}
	return nil
}

// readyTopics lists a site's topics whose every partition has a leader
// (a client starting now sees them whole).
func (e *Env) readyTopics(ctx context.Context, site string) ([]string, error) {
	td, err := e.listTopics(ctx, site)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range td.Sorted() {
		ok := t.Err == nil && len(t.Partitions) > 0
		for _, p := range t.Partitions {
			ok = ok && p.Err == nil && p.Leader >= 0
		}
		if ok {
			out = append(out, t.Topic)
		}
	}
	return out, nil
}

// producedTopics are the topics the stand's producers at site create
// when they start: every topic of every CSC they serve.
func (e *Env) producedTopics(site string) []string {
	var out []string
	for _, p := range e.Stand.Producers {
		if p.Site.Value != site {
			continue
		}
		for _, c := range p.CSCs {
			name, _, _ := strings.Cut(c.Value, ":")
			if comp := e.Stand.Loaded.Component(name); comp != nil {
				for _, t := range comp.Topics {
					out = append(out, t.KafkaTopic(p.Subname))
				}
			}
		}
	}
	return out
}

// topics lists a site's topics.
func (e *Env) topics(ctx context.Context, site string) ([]string, error) {
	td, err := e.listTopics(ctx, site)
	if err != nil {
		return nil, err
	}
	return td.Names(), nil
}

// listTopics describes a site's topics.
func (e *Env) listTopics(ctx context.Context, site string) (kadm.TopicDetails, error) {
	se := e.Sites[site]
	if se == nil {
		return nil, fmt.Errorf("unknown site %q", site)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(se.Brokers...))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	td, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("site %s: list topics: %w", site, err)
	}
	return td, nil
}

// waitTopics waits until every topic in want exists at site, for at most
// d, and fails early when alive says the process that should make them
// has exited.
func (e *Env) waitTopics(ctx context.Context, site string, want []string, d time.Duration, alive func() error) error {
	return wait.ForCondition("topics at "+site, func(ctx context.Context) error {
		have, err := e.readyTopics(ctx, site)
		if err != nil {
			return err
		}
		if missing := difference(want, have); len(missing) > 0 {
			return fmt.Errorf("still missing %v", missing)
		}
		return nil
	}).WithTimeout(d).WithAlive(alive).WaitUntilReady(ctx)
}

// startTelegraf runs Telegraf as a sink (backend process or containers), configured
// from the sink's rules as Sasquatch configures it: one kafka_consumer
// per rule with the avro parser reading schemas from the site's
// registry, into the rule's database through the influxdb output.
// Telegraf matches topic_regexps against the topics that exist when it
// starts and never again (as in production, where Sasquatch restarts it
// for new topics), so a stand starts it once the replicas of the flows
// into its site exist; it is up once its consumer group is assigned
// every topic the rules match.
func (e *Env) startTelegraf(ctx context.Context, k *SinkSpec) error {
	se := e.Sites[k.Site.Value]
	bin, err := telegraf.Find(moduleRoots()...)
	if err != nil {
		return fmt.Errorf("sink %s: %w", k.Name, err)
	}
	group := k.Group
	if group == "" {
		group = "telegraf-" + k.Name
	}
	tc := telegraf.Config{Brokers: se.Brokers, InfluxURL: se.InfluxURL, InfluxOrg: se.InfluxOrg, InfluxToken: se.InfluxToken, Group: group}
	for i, r := range k.Rules {
		// Telegraf's avro parser has one registry per input: a rule's
		// input reads with the registry the rule decodes with.
		r.Registry = se.RegistryFor(k.RuleRegistries()[i])
		tc.Inputs = append(tc.Inputs, telegraf.InputOf(r, e.Database(k.Site.Value, r.Database)))
	}
	conf := tc.Text()
	path := filepath.Join(e.tmp, "telegraf-"+strings.ReplaceAll(k.Name, "/", "_")+".conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return err
	}
	var into []*FlowSpec
	for _, f := range e.Stand.Replication {
		if f.Target.Value == k.Site.Value && f.Run != ExternalRun {
			into = append(into, f)
		}
	}
	if err := e.waitReplicas(ctx, into, func() error { return nil }); err != nil {
		return fmt.Errorf("sink %s: %w", k.Name, err)
	}
	topics, err := e.topics(ctx, k.Site.Value)
	if err != nil {
		return fmt.Errorf("sink %s: %w", k.Name, err)
	}
	if err := tc.Check(topics); err != nil { // a topic two inputs select goes to either, with its registry
		return fmt.Errorf("sink %s: telegraf config: %w", k.Name, err)
	}
	pr, err := startProcess("telegraf "+k.Name, bin, []string{"--config", path}, nil)
	if err != nil {
		return err
	}
	if err := e.waitGroupAssigned(ctx, k, group, pr.Alive); err != nil {
		_ = pr.Stop(5 * time.Second)
		return fmt.Errorf("%w\n%s", err, pr.Tail(4000))
	}
	c := &component{name: k.Name, kind: "sink", proc: pr, done: pr.Done()}
	c.cancel = func() { _ = pr.Stop(10 * time.Second) }
	e.register(c)
	return nil
}

// waitGroupAssigned waits until the sink's consumer group has members
// that together are assigned every topic at the site its rules match.
func (e *Env) waitGroupAssigned(ctx context.Context, k *SinkSpec, group string, alive func() error) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Sites[k.Site.Value].Brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	return wait.ForCondition("sink "+k.Name+": group "+group, func(ctx context.Context) error {
		td, err := adm.ListTopics(ctx)
		if err != nil {
			return err
		}
		groups, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return err
		}
		if len(groups[group].Members) == 0 {
			return errors.New("no members yet")
		}
		assigned := map[string]bool{}
		for _, m := range groups[group].Members {
			if ca, ok := m.Assigned.AsConsumer(); ok {
				for _, t := range ca.Topics {
					assigned[t.Topic] = true
				}
			}
		}
		var missing []string
		for _, t := range td.Names() {
			if k.Route(t) != nil && !assigned[t] {
				missing = append(missing, t)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("not assigned %v", missing)
		}
		return nil
	}).WithTimeout(2 * time.Minute).WithAlive(alive).WaitUntilReady(ctx)
}

// jarVersion is the version in the name of the first jar of the Kafka
// lib directory starting with prefix ("kafka_2.13-" gives "4.1.1"), or
// "unknown".
func jarVersion(prefix string) string {
	lib, err := kafkaproc.FindLib(moduleRoots()...)
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
	bin, err := telegraf.Find(moduleRoots()...)
	if err != nil {
		return "unknown"
	}
	return telegraf.BinaryVersion(bin)
}

// WriteLogs writes the output of every process the stand runs (binaries,
// MirrorMaker 2, Telegraf, Kafka nodes) into dir, one file each, for a
// failed run's report; it returns dir, or "" when there was none.
func (e *Env) WriteLogs(dir string) (string, error) {
	logs := map[string]string{}
	for _, n := range e.ComponentNames() {
		if c := e.component(n); c != nil && c.proc != nil {
			logs[c.kind+"-"+n] = c.proc.Tail(1 << 30)
		}
	}
	if e.backend != nil {
		maps.Copy(logs, e.backend.Logs())
	}
	if len(logs) == 0 {
		return "", nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for name, text := range logs {
		file := strings.NewReplacer("/", "_", " ", "_", ">", "", ":", "_").Replace(name) + ".log"
		if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}
