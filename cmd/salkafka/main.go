package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lsst-ts/teststand/dds"
	_ "github.com/lsst-ts/teststand/dds/cyclonedds" // registers the cyclonedds transport in -tags cyclonedds builds

	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/internal/kafkasec"
	"github.com/lsst-ts/teststand/producer"
)

func main() {
	os.Exit(cli.Profiled("salkafka", func() int { return run(os.Args[1:], os.Stdout, os.Stderr) }))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("salkafka", flag.ContinueOnError)
	fs.SetOutput(stderr)
	broker := fs.String("broker", cli.Env("LSST_KAFKA_BROKER_ADDR", joinHostPort(os.Getenv("BROKER_IP"), os.Getenv("BROKER_PORT"))), "Kafka broker host:port (no transport)")
	registry := fs.String("registry", cli.Env("REGISTRY_ADDR", os.Getenv("LSST_SCHEMA_REGISTRY_URL")), "schema registry URL (with transport)")
	partitions := fs.Int("partitions", cli.EnvInt("PARTITIONS", 1), "partitions of each telemetry topic created")
	replication := fs.Int("replication-factor", cli.EnvInt("REPLICATION", cli.EnvInt("LSST_KAFKA_REPLICATION_FACTOR", 3)), "replication factor of each topic created")
	loglevel := fs.Int("loglevel", cli.EnvInt("LOG_LEVEL", 20), "log level, Python style: 10 debug, 20 info, 30 warning, 40 error")
	waitAck := fs.String("wait-ack", cli.Env("WAIT_ACK", cli.Env("LSST_KAFKA_PRODUCER_WAIT_ACKS", "1")), "acks: 0, 1 or all")
	domain := fs.Int("domain", cli.EnvInt("LSST_DDS_DOMAIN_ID", 0), "DDS domain id")
	prefix := fs.String("partition-prefix", os.Getenv("LSST_DDS_PARTITION_PREFIX"), "DDS partition prefix")
	topicConfigs := cli.KeyValues{}
	fs.Var(topicConfigs, "topic-config", "KEY=VALUE set on every topic created (repeatable), e.g. retention.ms=86400000")
	subname := fs.String("subname", cli.Env("LSST_TOPIC_SUBNAME", "sal"), "topic subname: lsst.<subname>.<CSC>.<topic>")
	queueLen := fs.Int("queue-len", 100, "DDS read queue depth per topic")
	registryWait := fs.Duration("registry-wait", 0, "how long a topic waits for an unreachable registry, its samples queued, before it is given up (0: as long as the producer runs)")
	tsxml := fs.String("ts-xml", os.Getenv("TS_XML_DIR"), "ts_xml sal_interfaces directory (default: the built-in sample interfaces)")
	ddsBase := fs.Int("dds-base-port", 0, "base port of the cross-process DDS bus (default $TESTSTAND_DDS_BASE_PORT or 7400)")
	ddsTransport := fs.String("dds", cli.Env("TESTSTAND_DDS", dds.Simulated), "DDS transport: simulated, or cyclonedds (real RTPS; a build with -tags cyclonedds)")
	readyFile := fs.String("ready-file", "", "readiness semaphore (default /tmp/SALKAFKA_PRODUCER_RUNNING[_SUFFIX])")
	file := fs.String("file", "", "YAML producer groups (ts_salkafka's --file); SIGHUP re-reads it and adds new CSCs")
	validate := fs.Bool("validate", false, "with --file: check the file and exit")
	showSchema := fs.Bool("show-schema", false, "print the JSON schema of --file and exit")
	admin := fs.String("admin", "", "serve the admin API (GET/POST /components: hot add) on this address")
	security := kafkasec.AddFlags(fs)
	registryAuth := kafkasec.AddRegistryFlags(fs)
	linger := fs.Duration("linger", 0, "how long a record may wait to batch (0: send at once, for latency)")
	compression := fs.String("compression", "none", "none, gzip, snappy, lz4 or zstd")
	noAuto := fs.Bool("no-auto-register", false, "require every schema to be registered already (recommended in production)")
	metrics := fs.String("metrics", os.Getenv("SALKAFKA_METRICS_ADDR"), "serve Prometheus metrics on this address (e.g. 0.0.0.0:9100)")
	status := fs.Duration("status-interval", 0, "log a status line at this interval (e.g. 30s)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showSchema {
		fmt.Fprintln(stdout, producer.FileSchema())
		return 0
	}
	cscs := fs.Args()
	if len(cscs) == 0 && *file == "" {
		cscs = cli.List(strings.ReplaceAll(os.Getenv("CSC_LIST"), " ", ","))
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: pythonLevel(*loglevel)}))
	fail := func(err error) int {
		fmt.Fprintln(stderr, "salkafka:", err)
		return 2
	}
	ifaces, err := cli.Interfaces(*tsxml)
	if err != nil {
		return fail(err)
	}
	var groups []producer.Group
	if *file != "" {
		if len(cscs) > 0 {
			return fail(fmt.Errorf("--file and CSC names exclude each other"))
		}
		if groups, err = producer.LoadFile(*file, ifaces); err != nil {
			return fail(err)
		}
		if *validate {
			fmt.Fprintf(stdout, "File '%s' is valid.\n", *file)
			return 0
		}
	} else if *validate {
		return fail(fmt.Errorf("--validate needs --file"))
	}
	switch {
	case len(cscs) == 0 && len(groups) == 0:
		return fail(fmt.Errorf("no CSCs given (positional names, --file or CSC_LIST)"))
	case *broker == "":
		return fail(fmt.Errorf("no broker given (--broker or BROKER_IP/BROKER_PORT)"))
	case *registry == "":
		return fail(fmt.Errorf("no schema registry given (--registry or REGISTRY_ADDR)"))
	}
	sec, err := security.Config()
	if err != nil {
		return fail(err)
	}
	regUser, regPass, err := registryAuth.Auth()
	if err != nil {
		return fail(err)
	}
	// SIGTERM and SIGINT stop; so does SIGHUP, as ts_salkafka, unless a
	// --file is given: then SIGHUP re-reads it (hot add).
	stopSignals := []os.Signal{os.Interrupt, syscall.SIGTERM}
	var reload chan struct{}
	if *file != "" {
		reload = make(chan struct{}, 1)
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer func() { signal.Stop(hup); close(hup) }()
		go func() {
			for range hup {
				select {
				case reload <- struct{}{}:
				default:
				}
			}
		}()
	} else {
		stopSignals = append(stopSignals, syscall.SIGHUP)
	}
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	err = producer.RunProcess(ctx, producer.ProcessConfig{
		Config: producer.Config{
			Brokers: cli.List(*broker), RegistryURL: *registry, Interfaces: ifaces, Components: cscs, Groups: groups,
			Domain: *domain, PartitionPrefix: *prefix, Subname: *subname,
			Partitions: int32(*partitions), ReplicationFactor: int16(*replication), Acks: *waitAck,
			QueueDepth: *queueLen, RegistryWait: *registryWait, Logger: log, NoAutoRegister: *noAuto,
			Security: sec, RegistryUsername: regUser, RegistryPassword: regPass,
			Linger: *linger, Compression: *compression, TopicConfigs: topicConfigs,
		},
		DDSBasePort: *ddsBase, DDS: *ddsTransport, ReadyFile: *readyFile, MetricsAddr: *metrics, StatusEvery: *status,
		AdminAddr: *admin, File: *file, Reload: reload,
	})
	if err != nil {
		fmt.Fprintln(stderr, "salkafka:", err)
		return 1
	}
	return 0
}

func joinHostPort(host, port string) string {
	if host == "" {
		return ""
	}
	if port == "" {
		port = "9092"
	}
	return host + ":" + port
}

// pythonLevel maps Python logging levels to slog's.
func pythonLevel(l int) slog.Level {
	switch {
	case l <= 10:
		return slog.LevelDebug
	case l <= 20:
		return slog.LevelInfo
	case l <= 30:
		return slog.LevelWarn
	}
	return slog.LevelError
}
