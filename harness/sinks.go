// sinks.go holds the sinks the harness runs itself: in process or as the
// sink binary (Telegraf's are in telegraf_sink.go).

package harness

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/proc"
	"github.com/lsst-ts/teststand/sink"
)

// startSink starts a sink: in process, as the sink binary or its
// container, or as Telegraf (startTelegraf, telegraf_sink.go).
func (e *Env) startSink(ctx context.Context, k *SinkSpec) error {
	switch k.Run {
	case Binary, Container:
		return e.startBinarySink(ctx, k)
	case Telegraf:
		return e.startTelegraf(ctx, k)
	}
	se := e.Sites[k.Site.Value]
	via := e.reach(k.Site.Value)
	ru, rp := e.registryAuth()
	rules := slices.Clone(k.CompiledRules())
	for i := range rules {
		rules[i].Database = e.Database(k.Site.Value, rules[i].Database)
		rules[i].Registry = via.registryFor(k.RuleRegistries()[i])
	}
	s, err := sink.New(sink.Config{
		Brokers: se.Brokers, Rules: rules, GroupID: k.Group,
		RegistryURL: rules[0].Registry, InfluxURL: via.influx(), Org: se.InfluxOrg, Token: se.InfluxToken,
		Username: se.InfluxUser, Password: se.InfluxPassword,
		RegistryUsername: ru, RegistryPassword: rp,
		MaxBatch: k.MaxBatch, FlushInterval: k.FlushInterval.Duration, MaxUndelivered: k.MaxUndelivered, Offset: k.Offset,
		TopicRefresh: 500 * time.Millisecond,
		Logger:       e.log.With("component", "sink "+k.Name),
		KafkaOpts:    via.kafka(standsec.Sink, kgo.MetadataMinAge(100*time.Millisecond)),
	})
	if err = cmp.Or(via.Err(), err); err != nil {
		return fmt.Errorf("sink %s: %w", k.Name, err)
	}
	stats := func() map[string]int64 {
		return map[string]int64{
			"points": s.Stats.Points.Load(), "decode_errors": s.Stats.DecodeErrors.Load(),
			"rejected": s.Stats.Rejected.Load(), "non_finite": s.Stats.NonFinite.Load(),
			"mismatched": s.Stats.Mismatched.Load(),
		}
	}
	return e.startComponent(ctx, k.Name, "sink", stats, func(context.Context) error { s.Refresh(); return nil }, func(ctx context.Context, ready func()) error {
		ready()
		return s.Run(ctx)
	}, s.Metrics().Registry())
}

// startBinarySink runs the efdsink binary with the sink's rules in a file,
// ready once its metrics endpoint answers.
func (e *Env) startBinarySink(ctx context.Context, k *SinkSpec) error {
	se := e.Sites[k.Site.Value]
	via := e.reach(k.Site.Value)
	specs := slices.Clone(k.Rules)
	for i := range specs {
		specs[i].Database = e.Database(k.Site.Value, specs[i].Database)
		specs[i].Registry = via.registryFor(k.RuleRegistries()[i])
		specs[i].ReplicationSeparator = k.CompiledRules()[i].ReplicationSeparator
	}
	rules, err := yaml.Marshal(map[string]any{"rules": specs})
	if err != nil {
		return err
	}
	rulesFile := filepath.Join(e.tmp, "sink-"+strings.ReplaceAll(k.Name, "/", "_")+"-rules.yaml")
	if err := os.WriteFile(rulesFile, rules, 0o644); err != nil {
		return err
	}
	port, err := proc.FreePort()
	if err != nil {
		return err
	}
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{
		"--brokers", strings.Join(se.Brokers, ","), "--registry", specs[0].Registry, "--influxdb", via.influx(),
		"--rules", rulesFile, "--metrics-addr", metricsAddr, "--topic-refresh", "500ms",
		"--max-batch", fmt.Sprint(cmp.Or(k.MaxBatch, 5000)), "--flush-interval", k.FlushInterval.Duration.String(),
		"--max-undelivered", fmt.Sprint(k.MaxUndelivered), "--offset", cmp.Or(k.Offset, "oldest"),
	}
	if err := via.Err(); err != nil {
		return fmt.Errorf("sink %s: %w", k.Name, err)
	}
	sec, err := e.binaryFlags(standsec.Sink)
	if err != nil {
		return fmt.Errorf("sink %s: %w", k.Name, err)
	}
	args = append(args, sec...)
	if k.Group != "" {
		args = append(args, "--group", k.Group)
	}
	influxArgs, env, err := e.sinkInfluxAuth(se, k.Name)
	if err != nil {
		return fmt.Errorf("sink %s: %w", k.Name, err)
	}
	args = append(args, influxArgs...)
	metrics := "http://" + metricsAddr + "/metrics"
	return e.startBinary(ctx, binaryComponent{
		name: k.Name, kind: "sink", binary: "efdsink", args: args, env: env, run: k.Run,
		ready: wait.ForHTTP(metrics).WithTimeout(30 * time.Second), metricsURL: metrics,
	})
}

// sinkInfluxAuth are the sink binary's arguments and environment for the
// credentials of its site's InfluxDB: a 2.x token in INFLUXDB_TOKEN, a
// 1.x user with its password in a file of the run's secrets (mode 0600)
// given as @FILE, so that no password is on a command line a process
// listing shows.
func (e *Env) sinkInfluxAuth(se *SiteEnv, sink string) (args, env []string, err error) {
	if se.InfluxToken != "" {
		args = append(args, "--org", se.InfluxOrg)
		env = append(env, "INFLUXDB_TOKEN="+se.InfluxToken)
	}
	if se.InfluxUser != "" {
		file, err := e.secretFile("sink-"+strings.ReplaceAll(sink, "/", "_")+"-influxdb-password", se.InfluxPassword)
		if err != nil {
			return nil, nil, err
		}
		args = append(args, "--influxdb-username", se.InfluxUser, "--influxdb-password", "@"+file)
	}
	return args, env, nil
}
