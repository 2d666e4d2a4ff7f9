// telegraf_sink.go runs a sink as real Telegraf (run telegraf), as
// Sasquatch runs its Kafka consumers.

package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/harness/backend/host"
	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/harness/telegraf"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/sasquatch"
	"github.com/twmb/franz-go/pkg/kadm"
)

// startTelegraf runs Telegraf as a sink (backend process or containers), configured
// from the sink's rules as Sasquatch configures it: one kafka_consumer
// per rule with the avro parser reading schemas from the site's
// registry, into the rule's database through the influxdb output.
// Telegraf matches topic_regexps against the topics that exist when it
// starts and never again (as in production, where Sasquatch restarts it
// for new topics), so a stand starts it once the replicas of the flows
// into its site exist; it is up once its consumer group is assigned
// every topic the rules match.
func (e *Env) startTelegraf(ctx context.Context, k *SinkSpec) error {
	se := e.Sites[k.Site.Value]
	bin, err := telegraf.Find(host.ModuleRoots()...)
	if err != nil {
		return fmt.Errorf("sink %s: %w", k.Name, err)
	}
	group := k.Group
	if group == "" {
		group = "telegraf-" + k.Name
	}
	via := e.reach(k.Site.Value)
	tc := telegraf.Config{Brokers: se.Brokers, InfluxURL: via.influx(), InfluxOrg: se.InfluxOrg, InfluxToken: se.InfluxToken,
		InfluxUser: se.InfluxUser, InfluxPassword: se.InfluxPassword, Group: group}
	if e.sec != nil {
		// As Sasquatch's Telegraf: the telegraf KafkaUser, read only.
		tc.Kafka = e.sec.KafkaOn(standsec.Sink, e.Stand.Security.TLS())
		tc.RegistryUser, tc.RegistryPassword = e.registryAuth()
	}
	for i, r := range k.Rules {
		// Telegraf's avro parser has one registry per input: a rule's
		// input reads with the registry the rule decodes with.
		r.Registry = via.registryFor(k.RuleRegistries()[i])
		tc.Inputs = append(tc.Inputs, telegraf.InputOf(r, e.Database(k.Site.Value, r.Database)))
	}
	conf := tc.Text()
	deployed, dbs := k.Deployed()
	if deployed != nil {
		// The deployment's own telegraf.conf, pointed at the stand.
		if conf, err = deployed.Rewrite(sasquatch.Endpoints{Brokers: se.Brokers, Registry: via.registryFor(k.RuleRegistries()[0]), InfluxURL: via.influx(),
			InfluxUser: se.InfluxUser, InfluxPassword: se.InfluxPassword,
			Database: func(db string) string { return e.Database(k.Site.Value, dbs[db]) }}); err != nil {
			return fmt.Errorf("sink %s: %w", k.Name, err)
		}
	}
	if err := via.Err(); err != nil {
		return fmt.Errorf("sink %s: %w", k.Name, err)
	}
	// 0600: a secured stand's configuration holds its users' passwords
	// (Kafka's, the registries', InfluxDB's).
	path := filepath.Join(e.tmp, "telegraf-"+strings.ReplaceAll(k.Name, "/", "_")+".conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return err
	}
	var into []*FlowSpec
	for _, f := range e.Stand.Replication {
		if f.Target.Value == k.Site.Value && f.Run != ExternalRun {
			into = append(into, f)
		}
	}
	if err := e.waitReplicas(ctx, into, func() error { return nil }); err != nil {
		return fmt.Errorf("sink %s: %w", k.Name, err)
	}
	topics, err := e.topics(ctx, k.Site.Value)
	if err != nil {
		return fmt.Errorf("sink %s: %w", k.Name, err)
	}
	if err := tc.Check(topics); deployed == nil && err != nil { // a topic two inputs select goes to either, with its registry
		return fmt.Errorf("sink %s: telegraf config: %w", k.Name, err)
	}
	pr, err := host.StartProcess("telegraf "+k.Name, bin, []string{"--config", path}, nil)
	if err != nil {
		return err
	}
	if err := e.waitGroupAssigned(ctx, k, group, pr.Alive); err != nil {
		_ = pr.Stop(5 * time.Second)
		return fmt.Errorf("%w\n%s", err, pr.Tail(4000))
	}
	c := &component{name: k.Name, kind: "sink", proc: pr, done: pr.Done()}
	c.cancel = func() { _ = pr.Stop(10 * time.Second) }
	e.register(c)
	return nil
}

// waitGroupAssigned waits until the sink's consumer group has members
// that together are assigned every topic at the site its rules match.
func (e *Env) waitGroupAssigned(ctx context.Context, k *SinkSpec, group string, alive func() error) error {
	cl, err := e.Sites[k.Site.Value].client()
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	return wait.ForCondition("sink "+k.Name+": group "+group, func(ctx context.Context) error {
		td, err := adm.ListTopics(ctx)
		if err != nil {
			return err
		}
		groups, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return err
		}
		if len(groups[group].Members) == 0 {
			return errors.New("no members yet")
		}
		assigned := map[string]bool{}
		for _, m := range groups[group].Members {
			if ca, ok := m.Assigned.AsConsumer(); ok {
				for _, t := range ca.Topics {
					assigned[t.Topic] = true
				}
			}
		}
		var missing []string
		for _, t := range td.Names() {
			if k.Route(t) != nil && !assigned[t] {
				missing = append(missing, t)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("not assigned %v", missing)
		}
		return nil
	}).WithTimeout(2 * time.Minute).WithAlive(alive).WaitUntilReady(ctx)
}
