package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrNoTopic means the topic named does not exist.
var ErrNoTopic = errors.New("no such topic")

// Admin runs admin commands and prints their results to Out.
type Admin struct {
	brokers []string
	Kafka   *kgo.Client
	Adm     *kadm.Client
	Out     io.Writer
	// Settle bounds how long a write (create, delete, partitions, config
	// set) waits for every broker to show it before it returns
	// ErrNotVisible; 0 or less returns as soon as the controller accepted
	// it. New sets DefaultSettle.
	Settle time.Duration
}

// New connects to brokers (lazily) with extra client options.
func New(brokers []string, out io.Writer, opts ...kgo.Opt) (*Admin, error) {
	if len(brokers) == 0 {
		return nil, errors.New("no brokers given (--brokers or KAFKA_BROKERS)")
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		return nil, err
	}
	return &Admin{brokers: brokers, Kafka: cl, Adm: kadm.NewClient(cl), Out: out, Settle: DefaultSettle}, nil
}

// Close closes the client.
func (a *Admin) Close() { a.Kafka.Close() }

// Topics lists topic names, sorted; internal topics only when asked.
func (a *Admin) Topics(ctx context.Context, internal bool) ([]string, error) {
	td, err := a.Adm.ListTopics(ctx)
	if internal {
		td, err = a.Adm.ListTopicsWithInternal(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var out []string
	for _, t := range td.Sorted() {
		if t.Err == nil {
			out = append(out, t.Topic)
		}
	}
	return out, nil
}

// ListTopics prints the topics, one per line; with detail, each topic's
// partitions and replication factor.
func (a *Admin) ListTopics(ctx context.Context, internal, detail bool) error {
	td, err := a.Adm.ListTopics(ctx)
	if internal {
		td, err = a.Adm.ListTopicsWithInternal(ctx)
	}
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	for _, t := range td.Sorted() {
		if t.Err != nil {
			continue
		}
		if detail {
			fmt.Fprintf(a.Out, "%s\tpartitions %d\treplication factor %d\n", t.Topic, len(t.Partitions), t.Partitions.NumReplicas())
		} else {
			fmt.Fprintln(a.Out, t.Topic)
		}
	}
	return nil
}

// CreateTopic creates a topic; configs are topic configs (k=v). It returns
// once every broker lists the topic with its partitions led and its
// configs set (see ErrNotVisible).
func (a *Admin) CreateTopic(ctx context.Context, name string, partitions int32, rf int16, configs map[string]string) error {
	res, err := a.createTopic(ctx, name, partitions, rf, configs)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "created %s (%d partitions, replication factor %d)\n", name, res.NumPartitions, res.ReplicationFactor)
	return nil
}

// createTopic creates a topic and waits until every broker shows it.
func (a *Admin) createTopic(ctx context.Context, name string, partitions int32, rf int16, configs map[string]string) (kadm.CreateTopicResponse, error) {
	cfg := map[string]*string{}
	for k, v := range configs {
		cfg[k] = &v
	}
	res, err := a.Adm.CreateTopic(ctx, partitions, rf, cfg, name)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return res, fmt.Errorf("create topic %s: %w", name, err)
	}
	n := int(res.NumPartitions)
	if n <= 0 { // a broker answering below CreateTopics v5 does not say
		n = int(partitions)
	}
	if err := a.untilVisible(ctx, "create topic "+name, both(hasTopic(name, n), hasConfigs(name, configs))); err != nil {
		return res, err
	}
	return res, nil
}

// DeleteTopic deletes a topic and returns once no broker lists it (see
// ErrNotVisible).
func (a *Admin) DeleteTopic(ctx context.Context, name string) error {
	res, err := a.Adm.DeleteTopic(ctx, name)
	if err == nil {
		err = res.Err
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("delete topic %s: %w", name, ErrNoTopic)
	}
	if err != nil {
		return fmt.Errorf("delete topic %s: %w", name, err)
	}
	if err := a.untilVisible(ctx, "delete topic "+name, lacksTopic(name)); err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "deleted %s\n", name)
	return nil
}

// SetPartitions raises a topic's partition count to n (Kafka never
// lowers it) and returns once every broker lists n led partitions (see
// ErrNotVisible).
func (a *Admin) SetPartitions(ctx context.Context, name string, n int) error {
	td, err := a.Adm.ListTopics(ctx, name)
	if err != nil {
		return fmt.Errorf("topic %s: %w", name, err)
	}
	t, ok := td[name]
	if !ok || errors.Is(t.Err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("topic %s: %w", name, ErrNoTopic)
	}
	have := len(t.Partitions)
	switch {
	case n == have:
		fmt.Fprintf(a.Out, "%s has %d partitions already\n", name, n)
		return nil
	case n < have:
		return fmt.Errorf("topic %s has %d partitions: Kafka cannot lower that to %d", name, have, n)
	}
	res, err := a.Adm.UpdatePartitions(ctx, n, name)
	if err == nil {
		var r kadm.CreatePartitionsResponse
		if r, err = res.On(name, nil); err == nil {
			err = r.Err
		}
	}
	if err != nil {
		return fmt.Errorf("topic %s: partitions %d → %d: %w", name, have, n, err)
	}
	if err := a.untilVisible(ctx, fmt.Sprintf("topic %s: partitions %d → %d", name, have, n), hasTopic(name, n)); err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "%s now has %d partitions (was %d)\n", name, n, have)
	return nil
}

// Config prints a topic's configuration: the values set on the topic, or
// with detail every value with its source; set, if given, is applied
// first (incrementally: other settings stay), and the configuration is
// printed once every broker shows it (see ErrNotVisible).
func (a *Admin) Config(ctx context.Context, name string, detail bool, set map[string]string) error {
	if len(set) > 0 {
		var alter []kadm.AlterConfig
		for k, v := range set {
			alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
		}
		res, err := a.Adm.AlterTopicConfigs(ctx, alter, name)
		if err == nil {
			var r kadm.AlterConfigsResponse
			if r, err = res.On(name, nil); err == nil {
				err = r.Err
			}
		}
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return fmt.Errorf("topic %s: %w", name, ErrNoTopic)
		}
		if err != nil {
			return fmt.Errorf("topic %s: set %s: %w", name, settings(set), err)
		}
		if err := a.untilVisible(ctx, fmt.Sprintf("topic %s: set %s", name, settings(set)), hasConfigs(name, set)); err != nil {
			return err
		}
	}
	rcs, err := a.Adm.DescribeTopicConfigs(ctx, name)
	if err != nil {
		return fmt.Errorf("topic %s: %w", name, err)
	}
	rc, err := rcs.On(name, nil)
	if err == nil {
		err = rc.Err
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("topic %s: %w", name, ErrNoTopic)
	}
	if err != nil {
		return fmt.Errorf("topic %s: %w", name, err)
	}
	cfgs := slices.Clone(rc.Configs)
	sort.Slice(cfgs, func(i, j int) bool { return cfgs[i].Key < cfgs[j].Key })
	for _, c := range cfgs {
		set := c.Source == 1 // DYNAMIC_TOPIC_CONFIG
		if !detail && !set {
			continue
		}
		line := fmt.Sprintf("%s = %s", c.Key, c.MaybeValue())
		if detail {
			line += "\t(" + strings.ToLower(strings.TrimSuffix(c.Source.String(), "_CONFIG")) + ")"
		}
		fmt.Fprintln(a.Out, line)
	}
	return nil
}

// settings spells configs as they are given: k=v, sorted, comma-separated.
func settings(configs map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(configs)) {
		out = append(out, k+"="+configs[k])
	}
	return strings.Join(out, ", ")
}

// Brokers prints each broker: id, address, rack, and which is the
// controller.
func (a *Admin) Brokers(ctx context.Context) error {
	md, err := a.Adm.BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("brokers: %w", err)
	}
	fmt.Fprintf(a.Out, "cluster %s\n", md.Cluster)
	for _, b := range md.Brokers {
		line := fmt.Sprintf("broker %d\t%s:%d", b.NodeID, b.Host, b.Port)
		if b.Rack != nil {
			line += "\track " + *b.Rack
		}
		if b.NodeID == md.Controller {
			line += "\tcontroller"
		}
		fmt.Fprintln(a.Out, line)
	}
	return nil
}
