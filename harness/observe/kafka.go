package observe

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ReadUntil reads topic at brokers from its start, with no consumer
// group, until match says a record is the one sought (nil then), or ctx
// ends (its error). others is how many records did not match. opts are
// the cluster's client options beyond its brokers, as for every function
// here.
func ReadUntil(ctx context.Context, brokers []string, topic string, match func(*kgo.Record) bool, opts ...kgo.Opt) (others int, err error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(50 * time.Millisecond), kgo.FetchMaxWait(100 * time.Millisecond)}, opts...)...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return others, ctx.Err()
		}
		found := false
		fs.EachRecord(func(r *kgo.Record) {
			if !found && match(r) {
				found = true
				return
			}
			others++
		})
		if found {
			return others, nil
		}
	}
}

// Group is a consumer group's state ("Stable", "Empty", ...) and how
// many members it has now.
func Group(ctx context.Context, brokers []string, group string, opts ...kgo.Opt) (state string, members int, err error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		return "", 0, err
	}
	defer cl.Close()
	gs, err := kadm.NewClient(cl).DescribeGroups(ctx, group)
	if err != nil {
		return "", 0, fmt.Errorf("group %s: %w", group, err)
	}
	g := gs[group]
	return g.State, len(g.Members), nil
}

// ReadToEnd reads a topic from its start to the end it has now, by
// direct assignment with no consumer group (it takes nothing from
// anyone), calling fn for each record.
func ReadToEnd(ctx context.Context, brokers []string, topic string, fn func(*kgo.Record), opts ...kgo.Opt) error {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return err
	}
	if err := ends.Error(); err != nil {
		return fmt.Errorf("topic %s: %w", topic, err)
	}
	want := map[int32]int64{}
	parts := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
			parts[o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	if len(want) == 0 {
		return nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts})
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fs.EachRecord(func(r *kgo.Record) {
			fn(r)
			if r.Offset+1 >= want[r.Partition] {
				delete(want, r.Partition)
			}
		})
	}
	return nil
}
