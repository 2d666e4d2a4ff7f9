package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/internal/kafkasec"
	"github.com/lsst-ts/teststand/sink"
)

func main() {
	os.Exit(cli.Profiled("efdsink", func() int { return run(os.Args[1:], os.Stdout, os.Stderr) }))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("efdsink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pc sink.ProcessConfig
	cfg := &pc.Config
	brokers := fs.String("brokers", "", "Kafka seed brokers, host:port[,host:port]")
	topics := fs.String("topics", "", `topics of one rule: comma-separated regexes (default: the EFD's rules, lsst.sal.* → efd, lsst.dm.* → dm)`)
	database := fs.String("database", "efd", "database (2.x: bucket) of the --topics rule")
	tags := fs.String("tags", "", "fields written as tags in the --topics rule, comma-separated")
	tsField := fs.String("timestamp-field", "private_efdStamp", "field holding the time in the --topics rule")
	tsFormat := fs.String("timestamp-format", "unix", "unix, unix_ms, unix_us or unix_ns")
	fs.StringVar(&pc.RulesFile, "rules", "", "YAML rules file ({rules: [{topics, database, timestamp, ...}]}); replaces --topics")
	fs.StringVar(&cfg.GroupID, "group", "", `consumer group (default "efdsink", "efdsink-repairer" with --repair)`)
	fs.StringVar(&cfg.Offset, "offset", "oldest", "where a new group starts: oldest or newest")
	fs.StringVar(&cfg.RegistryURL, "registry", "", "schema registry URL of the rules without a registry of their own (rules file: registry)")
	fs.BoolVar(&cfg.Strict, "strict", false, "exit 1 at the first record whose schema is not its topic's (a schema id resolved in the wrong registry) instead of counting it and going on")
	fs.StringVar(&cfg.InfluxURL, "influxdb", "", "InfluxDB URL, e.g. http://127.0.0.1:8086")
	fs.StringVar(&cfg.Org, "org", "", "InfluxDB 2.x organisation (with INFLUXDB_TOKEN)")
	// The credentials default from the environment after parsing, as the
	// EFD's Telegraf takes them, so that -help never prints a password.
	fs.StringVar(&cfg.Username, "influxdb-username", "", "InfluxDB 1.x user, with authentication on (default $INFLUXDB_USER)")
	influxPassword := fs.String("influxdb-password", "", "InfluxDB 1.x password, or @FILE to read it from a file (default $INFLUXDB_PASSWORD)")
	fs.BoolVar(&cfg.CreateDatabases, "create-databases", false, "create missing 1.x databases at start")
	fs.IntVar(&cfg.MaxBatch, "max-batch", 5000, "points per write at most")
	fs.IntVar(&cfg.Writers, "writers", 2, "writes in flight at once at most")
	fs.IntVar(&cfg.MaxUndelivered, "max-undelivered", 0, "records read and not yet written at most, as Telegraf's max_undelivered_messages (0: twice --max-batch, one batch read while one is written)")
	fs.DurationVar(&cfg.FlushInterval, "flush-interval", 0, "gather records this long before writing (0: write what each fetch returns)")
	fs.DurationVar(&cfg.SchemaWait, "schema-wait", 0, "how long an unknown schema id is retried before the record is reported and skipped (default 30s)")
	fs.DurationVar(&cfg.TopicRefresh, "topic-refresh", 0, "how often new matching topics are looked for (default 10s)")
	fs.BoolVar(&cfg.Repair, "repair", false, "rewrite every matching topic from the oldest offset, then exit")
	fs.StringVar(&pc.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics")
	debug := fs.Bool("debug", false, "debug logging")
	security := kafkasec.AddClientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	kopts, ru, rp, err := security.Client()
	if err != nil {
		fmt.Fprintf(stderr, "efdsink: %v\n", err)
		return 2
	}
	cfg.KafkaOpts = append(cfg.KafkaOpts, kopts...)
	cfg.RegistryUsername, cfg.RegistryPassword = ru, rp
	cfg.Brokers = cli.List(*brokers)
	if *topics != "" {
		cfg.Rules = []sink.Rule{{Topics: cli.List(*topics), Database: *database, Tags: cli.List(*tags), Timestamp: *tsField, TimestampFormat: *tsFormat}}
	}
	cfg.Username = cmp.Or(cfg.Username, os.Getenv("INFLUXDB_USER"))
	password, err := kafkasec.Secret(cmp.Or(*influxPassword, os.Getenv("INFLUXDB_PASSWORD")))
	if err != nil {
		fmt.Fprintln(stderr, "efdsink: --influxdb-password:", err)
		return 2
	}
	if (cfg.Username == "") != (password == "") {
		fmt.Fprintln(stderr, "efdsink: an InfluxDB user and password go together (--influxdb-username, --influxdb-password)")
		return 2
	}
	cfg.Password = password
	cfg.Token = os.Getenv("INFLUXDB_TOKEN")
	cfg.Logger = cli.NewLogger(stderr, *debug)
	return cli.RunUntilSignal(stderr, "efdsink", func(ctx context.Context) error { return sink.RunProcess(ctx, pc) })
}
