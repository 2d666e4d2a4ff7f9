// debug_consumer.go holds an engineer's debugging consumer on a sink's
// topics, the participant some scenarios add beside the stand's own
// consumers (in the sink's group, taking records from it, or outside it).

package harness

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/twmb/franz-go/pkg/kgo"
)

// debugConsumer is an engineer's consumer on a sink's topics: in the
// sink's group (committing what it reads) or with no group at all.
type debugConsumer struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
	site   string
	re     *regexp.Regexp // the sink's topics
	// group, brokers and members are the group joined and how many
	// members it had before.
	group   string
	brokers []string
	opts    []kgo.Opt // the site's client options
	members int
	mu      sync.Mutex
	read    map[string]int // records read, by topic
}

// close stops the consumer; one in a group leaves it, and close waits
// (up to 20 s) until the group is stable again without it, so that the
// next scenario does not meet the sink in a rebalance.
func (d *debugConsumer) close() {
	d.cancel()
	<-d.done
	d.cl.Close() // leaves the group
	if d.group == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_ = wait.ForCondition("the sink's group stable again", func(ctx context.Context) error {
		state, members, err := observe.Group(ctx, d.brokers, d.group, d.opts...)
		if err != nil {
			return err
		}
		if state != "Stable" || members != d.members {
			return fmt.Errorf("group %s: %s with %d members", d.group, state, members)
		}
		return nil
	}).WaitUntilReady(ctx)
}

func (d *debugConsumer) counts() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]int, len(d.read))
	for k, v := range d.read {
		out[k] = v
	}
	return out
}

// startDebugConsumer starts an engineer's consumer on the topics re of
// sink k: in the sink's group (reading from its committed offsets and
// committing what it reads, as a console consumer does), returning once
// the group has given it a share of the partitions; or with no group,
// from the topics' ends.
func (e *Env) startDebugConsumer(ctx context.Context, k *SinkSpec, re string, inGroup bool) (*debugConsumer, error) {
	var err error
	var assigned atomic.Bool
	se := e.Sites[k.Site.Value]
	brokers := se.Brokers
	group, members := "", 0
	opts := append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ConsumeRegex(), kgo.ConsumeTopics(re),
		kgo.MetadataMinAge(100 * time.Millisecond), kgo.MetadataMaxAge(time.Second)}, se.KafkaOpts...)
	if inGroup {
		group = k.Group
		if group == "" {
			group = "efdsink"
		}
		if _, members, err = observe.Group(ctx, brokers, group, se.KafkaOpts...); err != nil {
			return nil, err
		}
		// A console consumer's defaults: join the group, read from the
		// committed offsets, commit what it read.
		opts = append(opts, kgo.ConsumerGroup(group), kgo.AutoCommitInterval(200*time.Millisecond),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
				if len(m) > 0 {
					assigned.Store(true)
				}
			}))
	} else {
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d := &debugConsumer{cl: cl, cancel: cancel, done: make(chan struct{}), site: k.Site.Value, re: regexp.MustCompile(re),
		group: group, brokers: brokers, opts: se.KafkaOpts, members: members, read: map[string]int{}}
	go func() {
		defer close(d.done)
		for {
			fs := cl.PollFetches(dctx)
			if dctx.Err() != nil {
				return
			}
			d.mu.Lock()
			fs.EachRecord(func(r *kgo.Record) { d.read[r.Topic]++ })
			d.mu.Unlock()
		}
	}()
	if inGroup {
		// Wait until the group has shared the partitions with it, so that
		// what is published next is split between the two.
		err := wait.ForCondition("the debugging consumer's share of the group", func(ctx context.Context) error {
			if !assigned.Load() {
				return fmt.Errorf("no partitions assigned yet")
			}
			return nil
		}).WithTimeout(30 * time.Second).WaitUntilReady(ctx)
		if err != nil {
			d.close()
			return nil, err
		}
	}
	return d, nil
}
