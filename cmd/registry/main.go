// Command registry serves a Confluent-compatible schema registry stored in
// a Kafka topic; see package registry.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/registry"
)

func main() {
	var cfg registry.Config
	brokers := flag.String("brokers", "", "Kafka seed brokers, host:port[,host:port]")
	flag.StringVar(&cfg.Topic, "topic", registry.DefaultTopic, "storage topic")
	flag.StringVar(&cfg.Addr, "listen", "127.0.0.1:8081", "listen address")
	flag.BoolVar(&cfg.ReadOnly, "read-only", false, "serve a replicated storage topic read-only (remote mode)")
	debug := flag.Bool("debug", false, "debug logging")
	flag.Parse()
	cfg.Brokers = cli.List(*brokers)
	cfg.Logger = cli.Logger(*debug)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := registry.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
}
