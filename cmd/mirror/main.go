package main

import (
	"context"
	"flag"
	"io"
	"os"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/replication"
)

func main() {
	os.Exit(cli.Profiled("mirror", func() int { return run(os.Args[1:], os.Stdout, os.Stderr) }))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mirror", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pc replication.ProcessConfig
	cfg := &pc.Flow
	fs.StringVar(&pc.ConfigFile, "config", "", "MM2 properties file (clusters, A->B.enabled, A->B.topics, ...); replaces the flow flags")
	src := fs.String("source-brokers", "", "source cluster seed brokers, host:port[,host:port]")
	dst := fs.String("target-brokers", "", "target cluster seed brokers")
	topics := fs.String("topics", ".*", "topics to replicate: comma-separated regexes (MM2 topics)")
	exclude := fs.String("topics-exclude", strings.Join(replication.DefaultExclude, ","), "topics never replicated (MM2 topics.exclude)")
	fs.StringVar(&cfg.SourceAlias, "source-alias", "", "source cluster alias, e.g. summit")
	fs.StringVar(&cfg.TargetAlias, "target-alias", "", "target cluster alias, e.g. usdf")
	fs.StringVar(&cfg.Policy, "policy", "default", "replication policy: default or identity")
	fs.StringVar(&cfg.Separator, "separator", ".", "replication.policy.separator")
	fs.DurationVar(&cfg.RefreshInterval, "refresh", 0, "refresh.topics.interval (default 600s)")
	fs.DurationVar(&cfg.SyncConfigsInterval, "sync-configs", 0, "sync.topic.configs.interval (default 600s; negative: off)")
	fs.DurationVar(&pc.Heartbeats, "heartbeats", time.Second, "emit.heartbeats.interval (0: off)")
	fs.StringVar(&cfg.GroupID, "group", "", "source consumer group holding progress")
	fs.StringVar(&pc.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics")
	debug := fs.Bool("debug", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.SourceBrokers, cfg.TargetBrokers = cli.List(*src), cli.List(*dst)
	cfg.Topics, cfg.TopicsExclude = cli.List(*topics), cli.List(*exclude)
	pc.Logger = cli.NewLogger(stderr, *debug)
	return cli.RunUntilSignal(stderr, "mirror", func(ctx context.Context) error { return replication.RunProcess(ctx, pc) })
}
