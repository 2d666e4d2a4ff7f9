package containers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/lsst-ts/teststand/internal/proc"
)

// Services the images are chosen for.
const (
	Kafka      = "kafka"
	Registry   = "registry"
	InfluxDB   = "influxdb"
	Components = "components"
)

// Upstream are the default images, pinned (never "latest": influxdb:latest
// is InfluxDB 3 since April 2026).
var Upstream = map[string]string{
	Kafka:      "apache/kafka:4.1.1",
	Registry:   "confluentinc/cp-schema-registry:7.9.2",
	InfluxDB:   "influxdb:1.8.10",
	Components: "teststand/components:dev",
}

// Images resolves each service's image: the stand's override, then
// $TESTSTAND_IMAGE_<SERVICE>, then the upstream default; prefix (a
// registry mirror, $TESTSTAND_IMAGE_PREFIX when empty) goes before every
// image that does not name a registry of its own.
func Images(overrides map[string]string, prefix string) map[string]string {
	if prefix == "" {
		prefix = os.Getenv("TESTSTAND_IMAGE_PREFIX")
	}
	out := map[string]string{}
	for svc, img := range Upstream {
		if v := os.Getenv("TESTSTAND_IMAGE_" + strings.ToUpper(svc)); v != "" {
			img = v
		}
		if v := overrides[svc]; v != "" {
			img = v
		}
		out[svc] = withPrefix(prefix, img)
	}
	return out
}

// withPrefix puts a mirror before an image whose first path part is not a
// registry host (no "." or ":" in it, and not "localhost").
func withPrefix(prefix, img string) string {
	if prefix == "" {
		return img
	}
	first, _, found := strings.Cut(img, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return img
	}
	return strings.TrimSuffix(prefix, "/") + "/" + img
}

// Prepare readies testcontainers-go for this machine before the first
// container: the Docker host is reached on 127.0.0.1 when the engine is
// local (inside a container of its own, testcontainers-go would use the
// default gateway), and Ryuk, the reaper, is disabled when its image is
// not present (it cannot be pulled here; the stand terminates what it
// started itself).
func Prepare(ctx context.Context) error {
	// testcontainers-go prints every step on stdout; the stand's own
	// logs and reports say what matters.
	tclog.SetDefault(tclog.NewNoopLogger())
	// testcontainers-go reads its configuration once, at its first
	// client: ask the engine with a plain client, and set the variables
	// before that.
	cli, err := client.New(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return fmt.Errorf("docker: %w (run `make docker-engine`)", err)
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("docker engine does not answer: %w (run `make docker-engine`)", err)
	}
	if os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" && (os.Getenv("DOCKER_HOST") == "" || strings.HasPrefix(os.Getenv("DOCKER_HOST"), "unix://")) {
		os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	}
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		if _, err := cli.ImageInspect(ctx, ryukImage); err != nil {
			os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
		}
	}
	return nil
}

const ryukImage = "testcontainers/ryuk:0.13.0"

// CheckImages makes sure every image is present, pulling what is missing;
// an image that is neither present nor pullable is one error naming it
// and how to provide it.
func CheckImages(ctx context.Context, images ...string) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	var missing []string
	for _, img := range images {
		if _, err := cli.ImageInspect(ctx, img); err == nil {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		r, err := cli.ImagePull(pctx, img, client.ImagePullOptions{})
		if err == nil {
			_, err = io.Copy(io.Discard, r)
			r.Close()
		}
		cancel()
		if err == nil {
			if _, err = cli.ImageInspect(ctx, img); err == nil {
				continue
			}
		}
		missing = append(missing, fmt.Sprintf("%s (%v)", img, shortErr(err)))
	}
	if len(missing) > 0 {
		return fmt.Errorf("images neither present nor pullable: %s; build the project's with `make containers-images`, load one with `docker load -i IMAGE.tar`, set a registry mirror with TESTSTAND_IMAGE_PREFIX, or override images in the stand (containers: {images: {...}})", strings.Join(missing, "; "))
	}
	return nil
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// Stand is one stand's network and containers.
type Stand struct {
	Network *testcontainers.DockerNetwork
	// Timeout bounds each container's readiness wait.
	Timeout time.Duration

	mu         sync.Mutex
	containers []*Container
}

// NewStand creates the stand's network.
func NewStand(ctx context.Context, timeout time.Duration) (*Stand, error) {
	n, err := tcnetwork.New(ctx, tcnetwork.WithLabels(map[string]string{"org.lsst.teststand": "stand"}))
	if err != nil {
		return nil, fmt.Errorf("docker network: %w", err)
	}
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	return &Stand{Network: n, Timeout: timeout}, nil
}

// Container is one running container and its output.
type Container struct {
	Name, Alias, Image string
	C                  *testcontainers.DockerContainer
	net                *testcontainers.DockerNetwork
	out                *logBuffer
}

// logBuffer keeps a container's output.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Accept(lg testcontainers.Log) {
	l.mu.Lock()
	l.b.Write(lg.Content)
	l.mu.Unlock()
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Logs is what the container printed so far.
func (c *Container) Logs() string { return c.out.String() }

// run starts a container on the stand's network under alias.
func (s *Stand) run(ctx context.Context, name, alias, image string, strategy wait.Strategy, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	out := &logBuffer{}
	all := append([]testcontainers.ContainerCustomizer{
		tcnetwork.WithNetwork([]string{alias}, s.Network),
		testcontainers.WithLabels(map[string]string{"org.lsst.teststand": name}),
		testcontainers.WithLogConsumers(out),
		testcontainers.WithWaitStrategyAndDeadline(s.Timeout, strategy),
	}, opts...)
	c, err := testcontainers.Run(ctx, image, all...)
	if err != nil {
		if c != nil {
			_ = c.Terminate(context.WithoutCancel(ctx))
		}
		return nil, fmt.Errorf("%s (%s): %w\n%s", name, image, err, proc.Tail(out.String(), 3000))
	}
	ct := &Container{Name: name, Alias: alias, Image: image, C: c, net: s.Network, out: out}
	s.mu.Lock()
	s.containers = append(s.containers, ct)
	s.mu.Unlock()
	return ct, nil
}

// bindHostPort exposes port and binds it to 127.0.0.1:host.
func bindHostPort(port string, host int) testcontainers.CustomizeRequestOption {
	return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
		if hc.PortBindings == nil {
			hc.PortBindings = network.PortMap{}
		}
		hc.PortBindings[network.MustParsePort(port)] = []network.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(host)}}
	})
}

// KafkaSite is a site's Kafka container: Brokers for the harness,
// InNetwork for containers on the stand's network.
type KafkaSite struct {
	*Container
	Brokers   []string
	InNetwork string
}

// StartKafka runs one KRaft node (broker and controller) under alias.
func (s *Stand) StartKafka(ctx context.Context, alias, image string, autoCreate bool) (*KafkaSite, error) {
	hostPort, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		"KAFKA_NODE_ID":                                  "1",
		"KAFKA_PROCESS_ROLES":                            "broker,controller",
		"KAFKA_LISTENERS":                                "PLAINTEXT://:9092,HOST://:19092,CONTROLLER://:9093",
		"KAFKA_ADVERTISED_LISTENERS":                     fmt.Sprintf("PLAINTEXT://%s:9092,HOST://127.0.0.1:%d", alias, hostPort),
		"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP":           "PLAINTEXT:PLAINTEXT,HOST:PLAINTEXT,CONTROLLER:PLAINTEXT",
		"KAFKA_CONTROLLER_QUORUM_VOTERS":                 "1@" + alias + ":9093",
		"KAFKA_CONTROLLER_LISTENER_NAMES":                "CONTROLLER",
		"KAFKA_INTER_BROKER_LISTENER_NAME":               "PLAINTEXT",
		"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":         "1",
		"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
		"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":            "1",
		"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":         "0",
		"KAFKA_AUTO_CREATE_TOPICS_ENABLE":                strconv.FormatBool(autoCreate),
		"KAFKA_HEAP_OPTS":                                "-Xmx512m -Xms128m",
	}
	c, err := s.run(ctx, "kafka@"+alias, alias, image,
		wait.ForAll(wait.ForLog("Kafka Server started"), wait.ForListeningPort("19092/tcp")),
		testcontainers.WithEnv(env), testcontainers.WithExposedPorts("19092/tcp"), bindHostPort("19092/tcp", hostPort))
	if err != nil {
		return nil, err
	}
	return &KafkaSite{Container: c, Brokers: []string{fmt.Sprintf("127.0.0.1:%d", hostPort)}, InNetwork: alias + ":9092"}, nil
}

// StartRegistry runs a schema registry on kafka's storage topic (read-only
// for a remote registry serving a replicated topic) and returns its URL
// on the host. entrypoint, if given, replaces the image's (the components
// image serves as the registry image with its registry binary).
func (s *Stand) StartRegistry(ctx context.Context, alias, image string, kafka *KafkaSite, topic string, readOnly bool, entrypoint ...string) (*Container, string, error) {
	env := map[string]string{
		"SCHEMA_REGISTRY_HOST_NAME":                    alias,
		"SCHEMA_REGISTRY_LISTENERS":                    "http://0.0.0.0:8081",
		"SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS": "PLAINTEXT://" + kafka.InNetwork,
		"SCHEMA_REGISTRY_KAFKASTORE_TOPIC":             topic,
	}
	opts := []testcontainers.ContainerCustomizer{testcontainers.WithEnv(env), testcontainers.WithExposedPorts("8081/tcp")}
	if readOnly {
		env["TESTSTAND_REGISTRY_READ_ONLY"] = "true"
	}
	if len(entrypoint) > 0 {
		opts = append(opts, testcontainers.WithEntrypoint(entrypoint...))
	}
	c, err := s.run(ctx, "registry@"+alias, alias, image, wait.ForHTTP("/subjects").WithPort("8081/tcp"), opts...)
	if err != nil {
		return nil, "", err
	}
	url, err := c.C.PortEndpoint(ctx, "8081/tcp", "http")
	return c, url, err
}

// StartInfluxDB runs InfluxDB 1.x and returns its URL on the host.
func (s *Stand) StartInfluxDB(ctx context.Context, alias, image string) (*Container, string, error) {
	c, err := s.run(ctx, "influxdb@"+alias, alias, image,
		wait.ForHTTP("/ping").WithPort("8086/tcp").WithStatusCodeMatcher(func(code int) bool { return code == 204 }),
		testcontainers.WithExposedPorts("8086/tcp"),
		testcontainers.WithEnv(map[string]string{"INFLUXDB_REPORTING_DISABLED": "true", "INFLUXDB_HTTP_FLUX_ENABLED": "false"}))
	if err != nil {
		return nil, "", err
	}
	url, err := c.C.PortEndpoint(ctx, "8086/tcp", "http")
	return c, url, err
}

// StartMirrorMaker runs MirrorMaker 2 in dedicated mode from the Kafka
// image with the given properties (clusters by in-network address).
func (s *Stand) StartMirrorMaker(ctx context.Context, image, properties string) (*Container, error) {
	return s.run(ctx, "mirrormaker2", "mirrormaker2", image, wait.ForLog("Kafka MirrorMaker started"),
		testcontainers.WithFiles(testcontainers.ContainerFile{Reader: strings.NewReader(properties), ContainerFilePath: "/tmp/mm2.properties", FileMode: 0o644}),
		testcontainers.WithEntrypoint("/opt/kafka/bin/connect-mirror-maker.sh"), testcontainers.WithCmd("/tmp/mm2.properties"))
}

// Pause freezes the container's processes (docker pause); Unpause thaws
// them.
func (c *Container) Pause(ctx context.Context) error {
	return withClient(ctx, func(cli *testcontainers.DockerClient) error {
		_, err := cli.ContainerPause(ctx, c.C.GetContainerID(), client.ContainerPauseOptions{})
		return err
	})
}

// Unpause thaws a paused container.
func (c *Container) Unpause(ctx context.Context) error {
	return withClient(ctx, func(cli *testcontainers.DockerClient) error {
		_, err := cli.ContainerUnpause(ctx, c.C.GetContainerID(), client.ContainerUnpauseOptions{})
		return err
	})
}

// Disconnect takes the container off the stand's network; Reconnect puts
// it back under its alias.
func (c *Container) Disconnect(ctx context.Context) error {
	return withClient(ctx, func(cli *testcontainers.DockerClient) error {
		_, err := cli.NetworkDisconnect(ctx, c.net.ID, client.NetworkDisconnectOptions{Container: c.C.GetContainerID(), Force: true})
		return err
	})
}

// Reconnect puts a disconnected container back on the network.
func (c *Container) Reconnect(ctx context.Context) error {
	return withClient(ctx, func(cli *testcontainers.DockerClient) error {
		_, err := cli.NetworkConnect(ctx, c.net.ID, client.NetworkConnectOptions{Container: c.C.GetContainerID(),
			EndpointConfig: &network.EndpointSettings{Aliases: []string{c.Alias}}})
		return err
	})
}

// Stop stops the container (SIGTERM, then SIGKILL after 10 s); Start
// starts it again with its state.
func (c *Container) Stop(ctx context.Context) error {
	d := 10 * time.Second
	return c.C.Stop(ctx, &d)
}

// Start starts a stopped container again.
func (c *Container) Start(ctx context.Context) error { return c.C.Start(ctx) }

func withClient(ctx context.Context, fn func(*testcontainers.DockerClient) error) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	return fn(cli)
}

// Containers lists the stand's containers in start order.
func (s *Stand) Containers() []*Container {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Container(nil), s.containers...)
}

// Terminate removes every container, newest first, then the network.
func (s *Stand) Terminate(ctx context.Context) error {
	cs := s.Containers()
	var errs []error
	for i := len(cs) - 1; i >= 0; i-- {
		if err := cs[i].C.Terminate(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", cs[i].Name, err))
		}
	}
	if err := s.Network.Remove(ctx); err != nil {
		errs = append(errs, fmt.Errorf("network: %w", err))
	}
	return errors.Join(errs...)
}
