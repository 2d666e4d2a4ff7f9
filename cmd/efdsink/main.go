// Command efdsink writes Avro topics from Kafka into InfluxDB with the EFD's
// conventions; see package sink.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/sink"
)

func main() {
	var cfg sink.Config
	brokers := flag.String("brokers", "", "Kafka seed brokers, host:port[,host:port]")
	topics := flag.String("topics", `lsst\.sal\..*`, "topics consumed: comma-separated regexes")
	tags := flag.String("tags", "", "fields written as tags, comma-separated")
	flag.StringVar(&cfg.GroupID, "group", "efdsink", "consumer group")
	flag.StringVar(&cfg.RegistryURL, "registry", "", "schema registry URL")
	flag.StringVar(&cfg.InfluxURL, "influxdb", "", "InfluxDB URL, e.g. http://127.0.0.1:8086")
	flag.StringVar(&cfg.Database, "database", "efd", "InfluxDB database")
	flag.StringVar(&cfg.RetentionPolicy, "retention-policy", "", "retention policy (default: the database's)")
	flag.StringVar(&cfg.Mapping.TimestampField, "timestamp-field", "private_efdStamp", "field holding the time in float seconds")
	flag.DurationVar(&cfg.TopicRefresh, "topic-refresh", 0, "how often new matching topics are looked for (default 10s)")
	debug := flag.Bool("debug", false, "debug logging")
	flag.Parse()
	cfg.Brokers, cfg.Topics, cfg.Mapping.Tags = cli.List(*brokers), cli.List(*topics), cli.List(*tags)
	cfg.Username, cfg.Password = os.Getenv("INFLUXDB_USER"), os.Getenv("INFLUXDB_PASSWORD")
	cfg.Logger = cli.Logger(*debug)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := sink.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "efdsink:", err)
		os.Exit(1)
	}
}
