package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lsst-ts/teststand/harness"
	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/internal/exit"
	"github.com/lsst-ts/teststand/internal/kafkasec"
)

const recordUsage = `usage:
  stand record --out FILE --topics REGEX (--duration D | --from T --to T)
               (--stand STATE|NAME --site SITE | --brokers B --registry URL [--remote-registry ALIAS=URL]... [--separator S])
               [--username U --password P|@FILE --security-protocol P --sasl-mechanism M --tls-ca F --tls-cert F --tls-key F]
               [--registry-username U --registry-password P|@FILE]
  stand record --out FILE --measurements REGEX --db NAME --from T --to T
               (--stand STATE|NAME --site SITE | --efd URL [--efd-username U --efd-password P|@FILE]) [--ts-xml DIR]
(REGEX: a Java regex matching whole names; T: RFC 3339; --duration records from now;
 --brokers defaults to $KAFKA_BROKERS, --registry to $SCHEMA_REGISTRY_URL when no --stand is given)`

// recordCommand parses `stand record` and calls harness.Record.
func recordCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg harness.RecordConfig
	fs.StringVar(&cfg.Out, "out", "", "the recording written (whole, or not at all)")
	state := fs.String("stand", "", "a held stand: the state file `stand up` writes, or the stand's name (out/up/NAME.json)")
	fs.StringVar(&cfg.Site, "site", "", "the held stand's site")
	fs.StringVar(&cfg.Topics, "topics", "", "Kafka topics: a Java regex matching whole names (lsst\\.sal\\..*)")
	brokers := fs.String("brokers", "", "Kafka seed brokers, comma-separated")
	fs.StringVar(&cfg.Registry, "registry", "", "schema registry resolving the topics' schema ids")
	remotes := cli.KeyValues{}
	fs.Var(remotes, "remote-registry", "ALIAS=URL: the remote registry serving replicas <ALIAS>.<topic> (repeatable)")
	fs.StringVar(&cfg.Separator, "separator", "", "replication separator of the replicas' names (default .)")
	security := kafkasec.AddFlags(fs)
	registryAuth := kafkasec.AddRegistryFlags(fs)
	fs.StringVar(&cfg.Measurements, "measurements", "", "EFD measurements: a Java regex matching whole names (lsst\\.sal\\.ATDome\\..*)")
	fs.StringVar(&cfg.EFD, "efd", "", "the EFD's InfluxDB 1.x URL")
	fs.StringVar(&cfg.Database, "db", "", "the EFD's database (efd)")
	fs.StringVar(&cfg.EFDUsername, "efd-username", os.Getenv("INFLUXDB_USER"), "InfluxDB user")
	efdPassword := fs.String("efd-password", os.Getenv("INFLUXDB_PASSWORD"), "InfluxDB password, or @FILE")
	fs.StringVar(&cfg.InterfacesDir, "ts-xml", os.Getenv("TS_XML_DIR"), "ts_xml sal_interfaces directory the measurements' topics come from (default: the held stand's, or the built-in set)")
	from := fs.String("from", "", "start of the range, RFC 3339")
	to := fs.String("to", "", "end of the range (excluded), RFC 3339")
	fs.DurationVar(&cfg.Duration, "duration", 0, "record from now for this long (Kafka)")
	debug := fs.Bool("debug", false, "debug logging")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, recordUsage)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "stand record:", err)
		return exit.Code(err)
	}
	bad := func(err error) int { return fail(&exit.BadInput{Err: err}) }
	var err error
	for _, t := range []struct {
		flag, v string
		dst     *time.Time
	}{{"--from", *from, &cfg.From}, {"--to", *to, &cfg.To}} {
		if t.v == "" {
			continue
		}
		if *t.dst, err = time.Parse(time.RFC3339Nano, t.v); err != nil {
			return bad(fmt.Errorf("%s %q: want RFC 3339 (2026-03-01T12:00:00Z)", t.flag, t.v))
		}
	}
	if *state != "" {
		cfg.State = harness.HeldPath(*state)
	} else {
		if *brokers == "" {
			*brokers = os.Getenv("KAFKA_BROKERS")
		}
		if cfg.Registry == "" {
			cfg.Registry = os.Getenv("SCHEMA_REGISTRY_URL")
		}
	}
	cfg.Brokers = cli.List(*brokers)
	if len(remotes) > 0 {
		cfg.Remotes = remotes
	}
	if cfg.Security, err = security.Config(); err != nil {
		return bad(err)
	}
	if cfg.RegistryUsername, cfg.RegistryPassword, err = registryAuth.Auth(); err != nil {
		return bad(err)
	}
	if cfg.EFDPassword, err = kafkasec.Secret(*efdPassword); err != nil {
		return bad(err)
	}
	cfg.Output, cfg.Logger = stdout, cli.NewLogger(stderr, *debug)
	if err := harness.Record(ctx, cfg); err != nil {
		return fail(err)
	}
	return 0
}
