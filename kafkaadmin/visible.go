package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/lsst-ts/teststand/harness/wait"
)

// ErrNotVisible means the cluster accepted a change (the controller
// committed it) but not every broker showed it within Admin.Settle.
//
// Kafka answers a create, alter or delete once the controller has it; each
// broker learns of it from the metadata log a moment later and answers
// metadata and describe-configs requests from what it has learnt so far.
// A command run straight after a write may ask a broker that lags, and see
// the cluster as it was: a topic just created missing, a config just set
// with its old value. The writes here therefore return only once every
// broker shows the change, or with this error, which says plainly that
// the change was accepted and what a broker still showed.
var ErrNotVisible = errors.New("accepted by the cluster, not yet visible")

// DefaultSettle is how long New's Admin waits for every broker to show a
// change: a broker a few seconds behind its controller is slow but
// healthy; one that takes longer than this is worth being told about.
const DefaultSettle = 30 * time.Second

// settleInterval is how often a write looks again whether the brokers show
// it: short, since a healthy broker catches up within milliseconds.
const settleInterval = 50 * time.Millisecond

// untilVisible waits until check passes on every broker of the cluster: a
// following command, whichever broker it asks, sees the change. what names
// the change for the error (e.g. "create topic x"). Settle <= 0 means the
// caller does not wait.
func (a *Admin) untilVisible(ctx context.Context, what string, check func(ctx context.Context, b *kgo.Broker) error) error {
	if a.Settle <= 0 {
		return nil
	}
	// last is what the last look that ended by itself found: the one the
	// wait's deadline cut short says only that, not what a broker showed.
	var last error
	cond := wait.ForCondition(what, func(ctx context.Context) error {
		err := a.onEveryBroker(ctx, check)
		if err != nil && (ctx.Err() == nil || last == nil) {
			last = err
		}
		return err
	}).WithTimeout(a.Settle)
	cond.Interval = settleInterval
	err := cond.WaitUntilReady(ctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("%s: accepted by the cluster, still waiting for every broker to show it: %w", what, ctx.Err())
	case last == nil:
		last = err
	}
	return fmt.Errorf("%s: %w after %s: %v", what, ErrNotVisible, a.Settle, last)
}

// onEveryBroker runs check against each broker the cluster lists, the first
// failure naming its broker.
func (a *Admin) onEveryBroker(ctx context.Context, check func(ctx context.Context, b *kgo.Broker) error) error {
	md, err := a.Adm.BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("brokers: %w", err)
	}
	if len(md.Brokers) == 0 {
		return errors.New("the cluster lists no brokers")
	}
	for _, b := range md.Brokers {
		if err := check(ctx, a.Kafka.Broker(int(b.NodeID))); err != nil {
			return fmt.Errorf("broker %d %w", b.NodeID, err)
		}
	}
	return nil
}

// topicView is what one broker's metadata says of a topic.
type topicView struct {
	exists     bool
	partitions int // listed
	led        int // with a leader and no error
}

// viewTopic asks broker b alone for topic's metadata.
func viewTopic(ctx context.Context, b *kgo.Broker, topic string) (topicView, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, b)
	if err != nil {
		return topicView{}, fmt.Errorf("metadata: %w", err)
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		err := kerr.ErrorForCode(t.ErrorCode)
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return topicView{}, nil
		}
		if err != nil {
			return topicView{}, fmt.Errorf("metadata of %s: %w", topic, err)
		}
		v := topicView{exists: true, partitions: len(t.Partitions)}
		for _, p := range t.Partitions {
			if p.ErrorCode == 0 && p.Leader >= 0 {
				v.led++
			}
		}
		return v, nil
	}
	return topicView{}, nil
}

// hasTopic is a check that topic exists with n partitions, each led.
func hasTopic(topic string, n int) func(context.Context, *kgo.Broker) error {
	return func(ctx context.Context, b *kgo.Broker) error {
		v, err := viewTopic(ctx, b, topic)
		switch {
		case err != nil:
			return err
		case !v.exists:
			return fmt.Errorf("does not list %s yet", topic)
		case v.partitions != n:
			return fmt.Errorf("lists %s with %d partitions, not %d", topic, v.partitions, n)
		case v.led != n:
			return fmt.Errorf("has a leader for %d of %s's %d partitions", v.led, topic, n)
		}
		return nil
	}
}

// lacksTopic is a check that topic is gone.
func lacksTopic(topic string) func(context.Context, *kgo.Broker) error {
	return func(ctx context.Context, b *kgo.Broker) error {
		v, err := viewTopic(ctx, b, topic)
		if err != nil {
			return err
		}
		if v.exists {
			return fmt.Errorf("still lists %s", topic)
		}
		return nil
	}
}

// hasConfigs is a check that broker b describes topic with each of want
// set on it. A sensitive config is described without its value: being
// set on the topic is all a broker shows of it.
func hasConfigs(topic string, want map[string]string) func(context.Context, *kgo.Broker) error {
	return func(ctx context.Context, b *kgo.Broker) error {
		if len(want) == 0 {
			return nil
		}
		req := kmsg.NewPtrDescribeConfigsRequest()
		rr := kmsg.NewDescribeConfigsRequestResource()
		rr.ResourceType = kmsg.ConfigResourceTypeTopic
		rr.ResourceName = topic
		rr.ConfigNames = slices.Sorted(maps.Keys(want))
		req.Resources = append(req.Resources, rr)
		resp, err := req.RequestWith(ctx, b)
		if err != nil {
			return fmt.Errorf("describe configs: %w", err)
		}
		if len(resp.Resources) != 1 {
			return fmt.Errorf("describe configs of %s: %d resources in the answer", topic, len(resp.Resources))
		}
		r := resp.Resources[0]
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			return fmt.Errorf("describe configs of %s: %w", topic, err)
		}
		got := map[string]kmsg.DescribeConfigsResponseResourceConfig{}
		for _, c := range r.Configs {
			got[c.Name] = c
		}
		for _, k := range slices.Sorted(maps.Keys(want)) {
			c, ok := got[k]
			switch {
			case !ok:
				return fmt.Errorf("does not describe %s's %s", topic, k)
			case c.IsSensitive && c.Source == kmsg.ConfigSourceDynamicTopicConfig:
			case c.Value == nil || *c.Value != want[k]:
				return fmt.Errorf("shows %s's %s = %s, not %s", topic, k, value(c.Value), want[k])
			}
		}
		return nil
	}
}

func value(v *string) string {
	if v == nil {
		return "(null)"
	}
	return *v
}

// both is a check that passes when a and b do.
func both(a, b func(context.Context, *kgo.Broker) error) func(context.Context, *kgo.Broker) error {
	return func(ctx context.Context, br *kgo.Broker) error {
		if err := a(ctx, br); err != nil {
			return err
		}
		return b(ctx, br)
	}
}
