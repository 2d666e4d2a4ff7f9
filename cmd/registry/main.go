package main

import (
	"context"
	"flag"
	"os"
	"strings"

	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/registry"
)

func main() {
	var cfg registry.Config
	// Defaults come from the variables the confluentinc/cp-schema-registry
	// image reads, so that a container stand runs either image.
	brokers := flag.String("brokers", stripSchemes(os.Getenv("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS")), "Kafka seed brokers, host:port[,host:port] ($SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS)")
	flag.StringVar(&cfg.Topic, "topic", cli.Env("SCHEMA_REGISTRY_KAFKASTORE_TOPIC", registry.DefaultTopic), "storage topic ($SCHEMA_REGISTRY_KAFKASTORE_TOPIC)")
	flag.StringVar(&cfg.Addr, "listen", cli.Env("SCHEMA_REGISTRY_LISTENERS", "127.0.0.1:8081"), "listen address ($SCHEMA_REGISTRY_LISTENERS, http://host:port)")
	flag.BoolVar(&cfg.ReadOnly, "read-only", os.Getenv("TESTSTAND_REGISTRY_READ_ONLY") == "true", "serve a replicated storage topic read-only (remote mode; $TESTSTAND_REGISTRY_READ_ONLY=true)")
	debug := flag.Bool("debug", false, "debug logging")
	flag.Parse()
	cfg.Brokers = cli.List(*brokers)
	cfg.Addr = stripSchemes(cfg.Addr)
	cfg.Logger = cli.Logger(*debug)
	os.Exit(cli.RunUntilSignal(os.Stderr, "registry", func(ctx context.Context) error { return registry.Run(ctx, cfg) }))
}

// stripSchemes drops "PLAINTEXT://" or "http://" from each of a list's
// addresses, as Confluent's variables write them.
func stripSchemes(list string) string {
	parts := cli.List(list)
	for i, p := range parts {
		if _, rest, ok := strings.Cut(p, "://"); ok {
			parts[i] = rest
		}
	}
	return strings.Join(parts, ",")
}
