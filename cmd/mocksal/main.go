package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lsst-ts/teststand/dds"
	_ "github.com/lsst-ts/teststand/dds/cyclonedds" // registers the cyclonedds transport in -tags cyclonedds builds

	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/internal/kafkasec"
	"github.com/lsst-ts/teststand/kafkasal"
	"github.com/lsst-ts/teststand/mocksal"
)

func main() {
	os.Exit(cli.Profiled("mocksal", func() int { return run(os.Args[1:], os.Stdout, os.Stderr) }))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mocksal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	domain := fs.Int("domain", cli.EnvInt("LSST_DDS_DOMAIN_ID", 0), "DDS domain id")
	prefix := fs.String("partition-prefix", os.Getenv("LSST_DDS_PARTITION_PREFIX"), "DDS partition prefix")
	tsxml := fs.String("ts-xml", os.Getenv("TS_XML_DIR"), "ts_xml sal_interfaces directory (default: the built-in sample interfaces)")
	csc := fs.String("csc", "", "CSC or CSC:index")
	topics := fs.String("topic", "", "sal_names, comma-separated (default: every telemetry topic of the CSC)")
	rate := fs.Float64("rate", 1, "samples per second per topic (sub-Hz allowed)")
	duration := fs.Duration("duration", 0, "how long to write")
	count := fs.Int("count", 0, "samples per topic (instead of a duration)")
	seed := fs.Uint64("seed", 1, "seed of the values")
	origin := fs.Int("origin", 0, "private_origin (default: this pid)")
	salmock := fs.Int("salmock", 0, "kafkaefd salmock mode: the first N topics, alphabetical, at 1 Hz")
	ledger := fs.String("ledger", "", "write one JSON line per sample to this file (- for stdout)")
	ddsBase := fs.Int("dds-base-port", 0, "base port of the cross-process DDS bus (default $TESTSTAND_DDS_BASE_PORT or 7400)")
	ddsTransport := fs.String("dds", cli.Env("TESTSTAND_DDS", dds.Simulated), "DDS transport: simulated, or cyclonedds (real RTPS; a build with -tags cyclonedds)")
	waitPeers := fs.Int("wait-peers", 0, "wait for this many connections on the domain before writing")
	profile := fs.String("profile", "", "traffic profile YAML (rates for every telemetry topic)")
	dryRun := fs.Bool("dry-run", false, "with --profile: print the writers and their rates, write nothing")
	record := fs.String("record", "", "record everything written to this file")
	replay := fs.String("replay", "", "replay a recording instead of generating traffic")
	speed := fs.Float64("speed", 1, "replay speed: 1 as recorded, N times faster, 0 as fast as possible")
	metrics := fs.String("metrics", "", "serve Prometheus metrics on this address (e.g. 127.0.0.1:9108)")
	progress := fs.Duration("progress", 0, "print progress at this interval (e.g. 1s)")
	debug := fs.Bool("debug", false, "debug logging")
	kafka := fs.String("kafka", "", "write as Kafka-era SAL (ts_salobj 8) straight to these brokers instead of a DDS domain (comma-separated; "+kafkasal.EnvBroker+")")
	registryURL := fs.String("registry", os.Getenv(kafkasal.EnvRegistry), "with --kafka: the schema registry ("+kafkasal.EnvRegistry+")")
	subname := fs.String("subname", os.Getenv(kafkasal.EnvSubname), "with --kafka: topics lsst.<subname>.<CSC>.<topic> ("+kafkasal.EnvSubname+"; sal in production)")
	security := kafkasec.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mocksal: "+format+"\n", a...)
		return 2
	}
	ifaces, err := cli.Interfaces(*tsxml)
	if err != nil {
		return fail("%v", err)
	}
	if *replay == "" && *count <= 0 && *duration <= 0 {
		return fail("give --duration or --count")
	}
	var writers []mocksal.WriterConfig
	base := mocksal.WriterConfig{RateHz: *rate, Count: *count, Duration: *duration, Seed: *seed, Origin: int32(*origin)}
	switch {
	case *replay != "":
	case *profile != "":
		p, err := mocksal.LoadProfile(*profile)
		if err != nil {
			return fail("%v", err)
		}
		planned, err := p.Resolve(ifaces)
		if err != nil {
			return fail("%v", err)
		}
		if unused := p.Unused(ifaces); len(unused) > 0 {
			fmt.Fprintf(stderr, "mocksal: %s: no rates written for %s (not in the loaded interfaces)\n", *profile, strings.Join(unused, ", "))
		}
		if *dryRun {
			fmt.Fprint(stdout, mocksal.Describe(planned))
			fmt.Fprintf(stdout, "%d writers, %.1f samples/s\n", len(planned), mocksal.Rate(planned))
			return 0
		}
		for i, pl := range planned {
			w := pl.Writer
			w.Count, w.Duration, w.Seed, w.Origin = base.Count, base.Duration, base.Seed+uint64(i), base.Origin
			writers = append(writers, w)
		}
	case *salmock > 0:
		base.RateHz = 1
		for _, t := range mocksal.SalmockTopics(ifaces, *salmock) {
			w := base
			w.Topic = t
			if t.Indexed {
				w.Index = 1
			}
			writers = append(writers, w)
		}
	case *csc != "":
		if writers, err = mocksal.CSCWriters(ifaces, *csc, cli.List(*topics), base); err != nil {
			return fail("--csc %s: %v", *csc, err)
		}
	default:
		return fail("give --csc, --profile, --salmock or --replay")
	}
	cfg := mocksal.ProcessConfig{Interfaces: ifaces, Domain: *domain, PartitionPrefix: *prefix, Writers: writers,
		DDSBasePort: *ddsBase, DDS: *ddsTransport, WaitPeers: *waitPeers, Logger: cli.Logger(*debug), MetricsAddr: *metrics,
		ReplayConfig: mocksal.ReplayConfig{Speed: *speed, Domain: -1, Origin: int32(*origin)}}
	if *progress > 0 {
		cfg.Progress, cfg.ProgressEvery = stderr, *progress
	}
	if *kafka != "" {
		if *replay != "" || *record != "" {
			return fail("--replay and --record need a DDS domain, not --kafka")
		}
		given := map[string]string{kafkasal.EnvBroker: *kafka, kafkasal.EnvRegistry: *registryURL, kafkasal.EnvSubname: *subname}
		kc, err := kafkasal.FromEnv(func(k string) string { return cmp.Or(given[k], os.Getenv(k)) })
		if err != nil {
			return fail("--kafka: %v", err)
		}
		sec, err := security.Config()
		if err != nil {
			return fail("%v", err)
		}
		if kc.KafkaOpts, err = sec.Opts(); err != nil {
			return fail("%v", err)
		}
		cfg.Kafka = &kc
	}
	if *record != "" {
		f, err := os.Create(*record)
		if err != nil {
			return fail("%v", err)
		}
		defer f.Close()
		cfg.Record = f
	}
	if *replay != "" {
		f, err := os.Open(*replay)
		if err != nil {
			return fail("%v", err)
		}
		defer f.Close()
		cfg.Replay, cfg.ReplayName = f, *replay
	}
	switch *ledger {
	case "":
	case "-":
		cfg.Ledger = stdout
	default:
		f, err := os.Create(*ledger)
		if err != nil {
			return fail("%v", err)
		}
		defer f.Close()
		cfg.Ledger = f
	}
	return cli.RunUntilSignal(stderr, "mocksal", func(ctx context.Context) error { return mocksal.RunProcess(ctx, cfg) })
}
