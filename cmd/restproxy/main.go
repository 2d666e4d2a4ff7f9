package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/internal/kafkasec"
	"github.com/lsst-ts/teststand/restproxy"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("restproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pc restproxy.ProcessConfig
	cfg := &pc.Config
	brokers := fs.String("brokers", "", "Kafka seed brokers, host:port[,host:port]")
	fs.StringVar(&pc.RegistryURL, "registry", "", "schema registry URL (for Avro)")
	fs.StringVar(&pc.Listen, "listen", "127.0.0.1:8082", "HTTP listen address")
	fs.StringVar(&pc.TokensFile, "tokens", "", "YAML file of bearer tokens and the topic prefixes each may write ({tokens: {TOKEN: [lsst.dm]}}); none: no authentication")
	partitions := fs.Int("partitions", 1, "partitions of a topic created through v3 without partitions_count")
	rf := fs.Int("replication-factor", -1, "replication factor of such a topic (-1: the broker's default)")
	debug := fs.Bool("debug", false, "debug logging")
	security := kafkasec.AddClientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	kopts, ru, rp, err := security.Client()
	if err != nil {
		fmt.Fprintf(stderr, "restproxy: %v\n", err)
		return 2
	}
	cfg.KafkaOpts = append(cfg.KafkaOpts, kopts...)
	cfg.RegistryUsername, cfg.RegistryPassword = ru, rp
	pc.Brokers = cli.List(*brokers)
	pc.Partitions, pc.ReplicationFactor = int32(*partitions), int16(*rf)
	pc.Logger = cli.NewLogger(stderr, *debug)
	return cli.RunUntilSignal(stderr, "restproxy", func(ctx context.Context) error { return restproxy.RunProcess(ctx, pc) })
}
