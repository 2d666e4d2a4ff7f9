// producers.go holds the SAL Kafka producers: started in process or as
// the salkafka binary, hot-adding CSCs, restarting with more, and what a
// producer read; and the cross-process DDS domains they listen on.

package harness

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/proc"
	"github.com/lsst-ts/teststand/producer"
	dto "github.com/prometheus/client_model/go"
)

// startProducer starts a producer: in process at its site, or as the
// salkafka binary or its container (startBinaryProducer).
func (e *Env) startProducer(ctx context.Context, p *ProducerSpec) error {
	if p.Run == Binary || p.Run == Container {
		return e.startBinaryProducer(ctx, p)
	}
	se := e.Sites[p.Site.Value]
	cscs := make([]string, len(p.CSCs))
	for i, c := range p.CSCs {
		cscs[i] = c.Value
	}
	partitions, rf := e.topicDefaults(p)
	bus, leave := e.Bus, func() {}
	if e.realDDS() {
		// On real DDS the producer is a participant of its own: what it
		// reads has crossed DDS, as a deployed producer's does.
		bus = dds.NewBus()
		l, err := dds.Connect(ctx, e.Stand.DDS, bus, e.domainConfig(p.Domain))
		if err != nil {
			bus.Close()
			return fmt.Errorf("producer %s: DDS domain %d: %w", p.Name, p.Domain, err)
		}
		leave = func() { l.Close(); bus.Close() }
	}
	via := e.reach(p.Site.Value)
	ru, rp := e.registryAuth()
	pr, err := producer.New(ctx, producer.Config{
		Brokers: se.Brokers, RegistryURL: via.registry(), KafkaOpts: via.kafka(standsec.Producer), Bus: bus, Interfaces: e.Stand.Loaded,
		RegistryUsername: ru, RegistryPassword: rp,
		Components: cscs, Domain: p.Domain, PartitionPrefix: p.PartitionPrefix, Subname: p.Subname,
		Partitions: partitions, ReplicationFactor: rf, Acks: p.WaitAck, QueueDepth: p.QueueLen, RegistryWait: p.RegistryWait.Duration,
		TopicConfigs: e.Stand.Sites[p.Site.Value].Kafka.TopicConfigs,
		Logger:       e.log.With("component", "producer "+p.Name),
	})
	if err = cmp.Or(via.Err(), err); err != nil {
		leave()
		return fmt.Errorf("producer %s: %w", p.Name, err)
	}
	se.Producers[p.Name] = pr
	stats := func() map[string]int64 {
		return map[string]int64{"read": pr.Stats.Read.Load(), "produced": pr.Stats.Produced.Load(), "failed": pr.Stats.Failed.Load()}
	}
	return e.startComponent(ctx, p.Name, "producer", stats, nil, func(ctx context.Context, ready func()) error {
		defer leave()
		ready()
		return pr.Run(ctx)
	}, pr.Registry())
}

// startBinaryProducer runs the salkafka binary with ts_salkafka's command
// line and waits for its readiness semaphore.
func (e *Env) startBinaryProducer(ctx context.Context, p *ProducerSpec) error {
	se := e.Sites[p.Site.Value]
	ready := filepath.Join(e.tmp, "SALKAFKA_PRODUCER_RUNNING_"+strings.ToUpper(p.Name))
	partitions, rf := e.topicDefaults(p)
	mport, err := proc.FreePort()
	if err != nil {
		return err
	}
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", mport)
	via := e.reach(p.Site.Value)
	aport, err := proc.FreePort()
	if err != nil {
		return err
	}
	adminAddr := fmt.Sprintf("127.0.0.1:%d", aport)
	args := []string{
		"--metrics", metricsAddr, "--admin", adminAddr,
		"--broker", strings.Join(se.Brokers, ","), "--registry", via.registry(),
		"--partitions", fmt.Sprint(partitions), "--replication-factor", fmt.Sprint(rf),
		"--loglevel", "30", "--wait-ack", cmp.Or(p.WaitAck, "1"),
		"--domain", fmt.Sprint(p.Domain), "--partition-prefix", p.PartitionPrefix,
		"--queue-len", fmt.Sprint(cmp.Or(p.QueueLen, 100)), "--registry-wait", p.RegistryWait.Duration.String(), "--subname", cmp.Or(p.Subname, "sal"),
		"--dds-base-port", fmt.Sprint(e.DDSBasePort), "--dds", e.ddsTransport(), "--ready-file", ready,
	}
	if err := via.Err(); err != nil {
		return fmt.Errorf("producer %s: %w", p.Name, err)
	}
	sec, err := e.binaryFlags(standsec.Producer)
	if err != nil {
		return fmt.Errorf("producer %s: %w", p.Name, err)
	}
	args = append(args, sec...)
	for k, v := range e.Stand.Sites[p.Site.Value].Kafka.TopicConfigs {
		args = append(args, "--topic-config", k+"="+v)
	}
	// Always said, "" for the built-in interfaces: the binary must not
	// fall back to a TS_XML_DIR of the environment the stand does not use.
	args = append(args, "--ts-xml="+e.Stand.InterfacesDir())
	for _, c := range p.CSCs {
		args = append(args, c.Value)
	}
	return e.startBinary(ctx, binaryComponent{
		name: p.Name, kind: "producer", binary: "salkafka", args: args, run: p.Run,
		ready:      wait.ForFile(ready).WithTimeout(60 * time.Second),
		metricsURL: "http://" + metricsAddr + "/metrics", adminURL: "http://" + adminAddr + "/components",
	})
}

// topicDefaults are the partitions and replication factor a producer
// creates topics with: its own, else its site's, else 1.
func (e *Env) topicDefaults(p *ProducerSpec) (int32, int16) {
	k := e.Stand.Sites[p.Site.Value].Kafka
	return cmp.Or(p.Partitions, k.Partitions, 1), cmp.Or(p.ReplicationFactor, k.ReplicationFactor, 1)
}

// AddToProducer hot-adds CSCs to a running producer: through its admin
// API for a binary, directly for an in-process one.
func (e *Env) AddToProducer(ctx context.Context, name string, cscs ...string) error {
	c := e.component(name)
	if c == nil || c.kind != "producer" {
		return fmt.Errorf("no producer named %q (have %v)", name, e.ComponentNames())
	}
	if c.adminURL != "" {
		body, _ := json.Marshal(map[string][]string{"components": cscs})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.adminURL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("producer %s: hot add: %w", name, err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("producer %s: hot add %v: %s: %s", name, cscs, resp.Status, bytes.TrimSpace(msg))
		}
		e.served(name, cscs)
		return nil
	}
	for _, se := range e.Sites {
		if p := se.Producers[name]; p != nil {
			if _, err := p.Add(ctx, cscs...); err != nil {
				return err
			}
			e.served(name, cscs)
			return nil
		}
	}
	return fmt.Errorf("producer %s cannot be reached", name)
}

// served records CSCs a producer took up after it started, so that the
// stand knows where their samples go.
func (e *Env) served(name string, cscs []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.Stand.Producers {
		if p.Name == name {
			for _, c := range cscs {
				p.CSCs = append(p.CSCs, Ref{Value: c})
			}
		}
	}
}

// ProducerRead is how many samples of csc's topic producer name has read
// from its DDS domain, from its own metrics (in-process counters, or a
// binary's Prometheus endpoint).
func (e *Env) ProducerRead(ctx context.Context, name, csc, topic string) (int64, error) {
	c := e.component(name)
	if c == nil || c.kind != "producer" {
		return 0, fmt.Errorf("no producer named %q (have %v)", name, e.ComponentNames())
	}
	fams, err := e.Metrics(ctx, name)
	if err != nil {
		return 0, err
	}
	return producerRead(fams, csc, topic), nil
}

// producerRead is a producer's read counter of csc's topic in its metrics.
func producerRead(fams []*dto.MetricFamily, csc, topic string) int64 {
	return int64(sumValues(fams, producerReadMetric, map[string]string{"csc": csc, "topic": topic}))
}

// producerReadMetric counts the samples a producer read, by csc and topic.
const producerReadMetric = "salkafka_samples_read_total"

// RestartProducer stops a running producer and starts it again with the
// CSCs added to its list: the summit's documented way of adding a CSC,
// during which nothing reads the producer's DDS domain. A stopped
// producer is only started.
func (e *Env) RestartProducer(ctx context.Context, name string, add ...string) error {
	c := e.component(name)
	if c == nil || c.kind != "producer" {
		return fmt.Errorf("no producer named %q (have %v)", name, e.ComponentNames())
	}
	if e.Running(name) {
		if err := e.Stop(name); err != nil {
			return err
		}
	}
	for _, csc := range add {
		if err := e.Stand.CheckCSC(Ref{Value: csc}, "producer "+strconv.Quote(name)); err != nil {
			return err
		}
	}
	e.served(name, add)
	return e.Restart(ctx, name)
}

// joinDomains connects the stand's bus to the cross-process DDS domains
// its producers listen on, on a base port of the stand's own, so that
// binary producers and mocksal processes meet the stand's writers and
// readers there.
func (e *Env) joinDomains(ctx context.Context) error {
	domains := map[int]bool{}
	for _, p := range e.Stand.Producers {
		domains[p.Domain] = true
	}
	base, err := freeBasePort(domains)
	if err != nil {
		return err
	}
	e.linksMu.Lock()
	e.DDSBasePort, e.claimed = base, domains
	e.linksMu.Unlock()
	for d := range domains {
		if err := e.joinDomain(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// joinDomain connects the stand's bus to domain d with the stand's DDS
// transport, once.
func (e *Env) joinDomain(ctx context.Context, d int) error {
	e.linksMu.Lock()
	defer e.linksMu.Unlock()
	if _, ok := e.links[d]; ok {
		return nil
	}
	if err := e.claimDomain(d); err != nil {
		return err
	}
	l, err := dds.Connect(ctx, e.Stand.DDS, e.Bus, e.domainConfig(d))
	if err != nil {
		return fmt.Errorf("DDS domain %d: %w", d, err)
	}
	if e.links == nil {
		e.links = map[int]dds.Domain{}
	}
	e.links[d] = l
	return nil
}

// claimDomain claims domain d's port of the stand's range, as Up claimed
// those of its producers' domains, before anything of the stand binds it:
// a writer may join another domain later (a feature's domain 12), and
// another stand must not be handed that port meanwhile. Callers hold
// linksMu.
func (e *Env) claimDomain(d int) error {
	if e.claimed[d] {
		return nil
	}
	if p := dds.Port(e.DDSBasePort, d); !proc.ClaimPort(p) {
		return fmt.Errorf("DDS domain %d: port %d of the stand's range (base %d) is taken by another stand or process", d, p, e.DDSBasePort)
	}
	if e.claimed == nil {
		e.claimed = map[int]bool{}
	}
	e.claimed[d] = true
	return nil
}

func (e *Env) domainConfig(d int) dds.LinkConfig {
	return dds.LinkConfig{Domain: d, Interfaces: e.Stand.Loaded, BasePort: e.DDSBasePort, Logger: e.log.With("component", "dds")}
}

// realDDS reports whether the stand's samples travel on real DDS: each
// in-process producer then reads through a participant of its own, and
// writers on a domain no producer serves still write on that domain.
func (e *Env) realDDS() bool { return e.Stand.DDS == dds.CycloneDDS }

// ddsTransport is the --dds value for the project's binaries.
func (e *Env) ddsTransport() string { return cmp.Or(e.Stand.DDS, dds.Simulated) }

// freeBasePort finds a base port whose domain ports are all free, each
// claimed machine-wide below the kernel's ephemeral range (see
// proc.FreePorts), so that neither another stand nor a client's
// outgoing connection takes a domain's port first.
func freeBasePort(domains map[int]bool) (int, error) {
	var offsets []int
	for d := range domains {
		offsets = append(offsets, dds.Port(0, d))
	}
	base, err := proc.FreePorts(offsets...)
	if err != nil {
		return 0, fmt.Errorf("DDS domains: %w", err)
	}
	return base, nil
}
