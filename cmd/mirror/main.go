// Command mirror replicates Kafka topics between two clusters with
// MirrorMaker 2's naming and filtering; see package replication.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/replication"
)

func main() {
	var cfg replication.Config
	src := flag.String("source-brokers", "", "source cluster seed brokers, host:port[,host:port]")
	dst := flag.String("target-brokers", "", "target cluster seed brokers")
	topics := flag.String("topics", ".*", "topics to replicate: comma-separated regexes (MM2 topics)")
	exclude := flag.String("topics-exclude", strings.Join(replication.DefaultExclude, ","), "topics never replicated (MM2 topics.exclude)")
	flag.StringVar(&cfg.SourceAlias, "source-alias", "", "source cluster alias, e.g. summit")
	flag.StringVar(&cfg.TargetAlias, "target-alias", "", "target cluster alias, e.g. usdf")
	flag.StringVar(&cfg.Policy, "policy", "default", "replication policy: default or identity")
	flag.StringVar(&cfg.Separator, "separator", ".", "replication.policy.separator")
	flag.DurationVar(&cfg.RefreshInterval, "refresh", 0, "refresh.topics.interval (default 600s)")
	flag.StringVar(&cfg.GroupID, "group", "", "source consumer group holding progress")
	debug := flag.Bool("debug", false, "debug logging")
	flag.Parse()
	cfg.SourceBrokers, cfg.TargetBrokers = cli.List(*src), cli.List(*dst)
	cfg.Topics, cfg.TopicsExclude = cli.List(*topics), cli.List(*exclude)
	cfg.Logger = cli.Logger(*debug)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := replication.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "mirror:", err)
		os.Exit(1)
	}
}
