package kafkaproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/proc"
)

// Version is the Apache Kafka release conformance/pom.xml pins.
const Version = "4.1.1"

// ErrNoJars means the Kafka jars have not been resolved.
var ErrNoJars = errors.New("kafka jars not found: run `make conformance-tools` (Maven resolves them into .cache/kafka/lib)")

// FindLib locates the jar directory: $KAFKA_LIB, then
// <root>/.cache/kafka/lib for each root given.
func FindLib(roots ...string) (string, error) {
	if p := os.Getenv("KAFKA_LIB"); p != "" {
		return p, nil
	}
	for _, r := range roots {
		p := filepath.Join(r, ".cache", "kafka", "lib")
		if m, _ := filepath.Glob(filepath.Join(p, "kafka_2.13-*.jar")); len(m) > 0 {
			return p, nil
		}
	}
	return "", ErrNoJars
}

// Config says what cluster to run.
type Config struct {
	// Lib is the jar directory (see FindLib).
	Lib string
	// Nodes is the number of combined broker/controller nodes; 0 means 1.
	Nodes int
	// Java is the java binary; "" means the one on $PATH.
	Java string
	// Heap is each node's -Xmx; "" means 512m.
	Heap string
	// AutoCreateTopics lets a metadata request create a topic
	// (auto.create.topics.enable); off by default, as the stands' sites.
	AutoCreateTopics bool
	// Listeners are client listeners every node has besides its first,
	// each advertised at an address of the caller's (a fault layer's
	// proxy in front of it): a client bootstrapped through one learns
	// the advertised addresses of that listener only, as Kafka answers
	// metadata per listener.
	Listeners []Listener
	// Security, when set, secures every client listener (see Security);
	// nil leaves them PLAINTEXT.
	Security *Security
}

// Listener is an extra client listener, secured as the first is.
type Listener struct {
	// Name is the listener's name (upper case letters and digits, not
	// PLAINTEXT or CONTROLLER).
	Name string
	// Advertise is the address node n (from 1) advertises on the
	// listener, which listens on addr.
	Advertise func(n int, addr string) (string, error)
}

// Cluster is a running Kafka cluster.
type Cluster struct {
	dir   string
	cfg   Config
	confs []string // each node's server.properties
	mu    sync.Mutex
	nodes []*proc.Process
	seeds []string
	// listenerSeeds are each extra listener's advertised addresses.
	listenerSeeds map[string][]string
	// internal are the nodes' inter-broker listeners, which a secured
	// cluster's own administration (its users and ACLs) goes through.
	internal []string
}

// Start formats storage for every node and starts them, then waits until
// the cluster answers metadata with all its brokers.
func Start(ctx context.Context, cfg Config) (_ *Cluster, err error) {
	cfg.defaults()
	dir, err := os.MkdirTemp("", "teststand-kafka-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, cfg: cfg, listenerSeeds: map[string][]string{}}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	ports := make([][2]int, cfg.Nodes)
	var voters []string
	for i := range ports {
		for j := range 2 {
			if ports[i][j], err = proc.FreePort(); err != nil {
				return nil, err
			}
		}
		voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", i+1, ports[i][1]))
		c.seeds = append(c.seeds, fmt.Sprintf("127.0.0.1:%d", ports[i][0]))
	}
	out, err := javaCmd(cfg, "kafka.tools.StorageTool", "random-uuid").Output()
	if err != nil {
		return nil, fmt.Errorf("kafka: cluster id: %w", err)
	}
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		return nil, errors.New("kafka: the storage tool printed no cluster id")
	}
	clusterID := fields[len(fields)-1]
	rf := min(cfg.Nodes, 3)
	client, clientProto := "PLAINTEXT", "PLAINTEXT"
	if sec := cfg.Security; sec != nil {
		client, clientProto = "CLIENT", sec.protocol()
	}
	for i := range cfg.Nodes {
		listeners := fmt.Sprintf("%s://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", client, ports[i][0], ports[i][1])
		advertised := fmt.Sprintf("%s://127.0.0.1:%d", client, ports[i][0])
		protocols := fmt.Sprintf("CONTROLLER:PLAINTEXT,%s:%s", client, clientProto)
		interBroker := client
		if cfg.Security != nil {
			port, err := proc.FreePort()
			if err != nil {
				return nil, err
			}
			addr := fmt.Sprintf("127.0.0.1:%d", port)
			listeners += ",INTERNAL://" + addr
			advertised += ",INTERNAL://" + addr
			protocols = fmt.Sprintf("CONTROLLER:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT,%s:%s", client, clientProto)
			interBroker = "INTERNAL"
			c.internal = append(c.internal, addr)
		}
		for _, l := range cfg.Listeners {
			if l.Name == "" || l.Name == client || l.Name == "CONTROLLER" || l.Name == "INTERNAL" || strings.ToUpper(l.Name) != l.Name {
				return nil, fmt.Errorf("kafka: listener %q: want an upper-case name other than %s, CONTROLLER and INTERNAL", l.Name, client)
			}
			port, err := proc.FreePort()
			if err != nil {
				return nil, err
			}
			addr := fmt.Sprintf("127.0.0.1:%d", port)
			adv, err := l.Advertise(i+1, addr)
			if err != nil {
				return nil, fmt.Errorf("kafka: listener %s of node %d: %w", l.Name, i+1, err)
			}
			listeners += fmt.Sprintf(",%s://%s", l.Name, addr)
			advertised += fmt.Sprintf(",%s://%s", l.Name, adv)
			protocols += fmt.Sprintf(",%s:%s", l.Name, clientProto)
			c.listenerSeeds[l.Name] = append(c.listenerSeeds[l.Name], adv)
		}
		data := filepath.Join(dir, fmt.Sprintf("node-%d", i+1))
		props := fmt.Sprintf(`process.roles=broker,controller
node.id=%d
controller.quorum.voters=%s
listeners=%s
advertised.listeners=%s
controller.listener.names=CONTROLLER
listener.security.protocol.map=%s
inter.broker.listener.name=%s
log.dirs=%s
offsets.topic.replication.factor=%d
default.replication.factor=%d
transaction.state.log.replication.factor=%d
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=%t
`, i+1, strings.Join(voters, ","), listeners, advertised, protocols, interBroker, data, rf, rf, rf, cfg.AutoCreateTopics)
		if sec := cfg.Security; sec != nil {
			more, err := sec.properties(dir, append([]string{client}, listenerNames(cfg.Listeners)...))
			if err != nil {
				return nil, err
			}
			props += more
		}
		conf := filepath.Join(dir, fmt.Sprintf("server-%d.properties", i+1))
		// 0600: a secured node's file holds its inter-broker password.
		if err := os.WriteFile(conf, []byte(props), 0o600); err != nil {
			return nil, err
		}
		if out, err := javaCmd(cfg, "kafka.tools.StorageTool", "format", "-t", clusterID, "-c", conf).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("kafka: format node %d: %w\n%s", i+1, err, out)
		}
		c.confs = append(c.confs, conf)
		n, err := proc.Start(fmt.Sprintf("kafka node %d", i+1), javaCmd(cfg, "kafka.Kafka", conf))
		if err != nil {
			return nil, err
		}
		c.nodes = append(c.nodes, n)
	}
	// A JVM starts in seconds on an idle machine, but a make test run
	// starts several clusters at once on two cores (seen: over 90 s for
	// one of four started together); the bound is for a node that never
	// comes, not for a slow one.
	w := c.metadataWait(c.seeds, c.internal, cfg.Nodes)
	w.Timeout = 3 * time.Minute
	if err := w.WaitUntilReady(ctx); err != nil {
		return nil, fmt.Errorf("kafka did not start: %w\n%s", err, c.Logs(3000))
	}
	if cfg.Security != nil {
		if err := c.secure(ctx); err != nil {
			return nil, fmt.Errorf("kafka: %w\n%s", err, c.Logs(3000))
		}
	}
	return c, nil
}

// metadataWait waits for metadata from seeds, or on a secured cluster from
// its inter-broker listeners internal, as the brokers' own user.
func (c *Cluster) metadataWait(seeds, internal []string, n int) *wait.KafkaMetadata {
	if c.cfg.Security == nil {
		return wait.ForKafkaMetadata(seeds, n)
	}
	return wait.ForKafkaMetadata(internal, n).WithOpts(c.cfg.Security.brokerOpts()...)
}

// Kill kills node n (from 1) with SIGKILL, as a crashed broker: its
// replicas fall out of the ISR and its partitions elect other leaders.
func (c *Cluster) Kill(n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n < 1 || n > len(c.nodes) {
		return fmt.Errorf("kafka: no node %d (the cluster has %d)", n, len(c.nodes))
	}
	nd := c.nodes[n-1]
	nd.Kill()
	<-nd.Done()
	return nil
}

// Restart starts a killed node n again on its data and waits until the
// cluster answers metadata with every broker that runs.
func (c *Cluster) Restart(ctx context.Context, n int) error {
	c.mu.Lock()
	if n < 1 || n > len(c.nodes) {
		c.mu.Unlock()
		return fmt.Errorf("kafka: no node %d (the cluster has %d)", n, len(c.nodes))
	}
	if c.nodes[n-1].Alive() == nil {
		c.mu.Unlock()
		return fmt.Errorf("kafka: node %d is running", n)
	}
	nd, err := proc.Start(fmt.Sprintf("kafka node %d", n), javaCmd(c.cfg, "kafka.Kafka", c.confs[n-1]))
	if err != nil {
		c.mu.Unlock()
		return err
	}
	c.nodes[n-1] = nd
	alive := 0
	for _, x := range c.nodes {
		if x.Alive() == nil {
			alive++
		}
	}
	c.mu.Unlock()
	// Asked itself, the node answers once it is up again (the others may
	// list it until its session times out).
	var internal []string
	if c.internal != nil {
		internal = c.internal[n-1 : n]
	}
	w := c.metadataWait(c.seeds[n-1:n], internal, alive)
	w.Timeout = 3 * time.Minute
	if err := w.WaitUntilReady(ctx); err != nil {
		return fmt.Errorf("kafka node %d did not come back: %w\n%s", n, err, nd.Tail(3000))
	}
	return nil
}

// Seeds are the brokers' host:port.
func (c *Cluster) Seeds() []string { return c.seeds }

// ListenerSeeds are the addresses the brokers advertise on an extra
// listener (Config.Listeners), nil for a listener the cluster has not.
func (c *Cluster) ListenerSeeds(name string) []string { return c.listenerSeeds[name] }

// Logs is the end of every node's output (n bytes each), for reports.
func (c *Cluster) Logs(n int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for i, nd := range c.nodes {
		fmt.Fprintf(&b, "--- kafka node %d\n%s\n", i+1, nd.Tail(n))
	}
	return b.String()
}

// Stop sends SIGTERM to every node, waits up to 20 s (then kills), and
// removes the data.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	nodes := append([]*proc.Process(nil), c.nodes...)
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() { _ = n.Stop(20 * time.Second) })
	}
	wg.Wait()
	return os.RemoveAll(c.dir)
}

// javaCmd is a JVM on the Kafka jars with a quick JIT and a serial GC: a
// test cluster starts in seconds on two cores, where the server defaults
// spend them compiling.
func javaCmd(cfg Config, args ...string) *exec.Cmd {
	return exec.Command(cfg.Java, append([]string{"-Xmx" + cfg.Heap, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
		"-cp", filepath.Join(cfg.Lib, "*")}, args...)...)
}

func (cfg *Config) defaults() {
	if cfg.Nodes <= 0 {
		cfg.Nodes = 1
	}
	if cfg.Java == "" {
		cfg.Java = "java"
	}
	if cfg.Heap == "" {
		cfg.Heap = "512m"
	}
}

// MirrorMaker is a running MirrorMaker 2 in dedicated mode.
type MirrorMaker struct {
	dir string
	p   *proc.Process
}

// StartMirrorMaker runs org.apache.kafka.connect.mirror.MirrorMaker with
// properties (connect-mirror-maker.properties text) until Stop.
func StartMirrorMaker(cfg Config, properties string) (*MirrorMaker, error) {
	cfg.defaults()
	dir, err := os.MkdirTemp("", "teststand-mm2-")
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "connect-mirror-maker.properties")
	// 0600: a secured stand's properties hold its users' passwords.
	if err := os.WriteFile(conf, []byte(properties), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p, err := proc.Start("mirrormaker", javaCmd(cfg, "org.apache.kafka.connect.mirror.MirrorMaker", conf))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &MirrorMaker{dir: dir, p: p}, nil
}

// Process is MirrorMaker's process.
func (m *MirrorMaker) Process() *proc.Process { return m.p }

// Logs is the end of MirrorMaker's output.
func (m *MirrorMaker) Logs(n int) string { return m.p.Tail(n) }

// Stop ends MirrorMaker (SIGTERM, then SIGKILL after 20 s).
func (m *MirrorMaker) Stop() error {
	_ = m.p.Stop(20 * time.Second)
	return os.RemoveAll(m.dir)
}
