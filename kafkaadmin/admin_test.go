package kafkaadmin

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/lsst-ts/teststand/internal/kfault"
)

const topic = "lsst.dm.a"

// before returns the answer the cluster gives now to a request of key
// about topic: what a lagging broker goes on answering after a write.
func before(t *testing.T, cl *kgo.Client, key kmsg.Key) kmsg.Response {
	t.Helper()
	var req kmsg.Request
	switch key {
	case kmsg.Metadata:
		r := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		r.Topics = append(r.Topics, rt)
		req = r
	case kmsg.DescribeConfigs:
		r := kmsg.NewPtrDescribeConfigsRequest()
		rr := kmsg.NewDescribeConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeTopic, topic
		r.Resources = append(r.Resources, rr)
		req = r
	default:
		t.Fatalf("no stale answer for key %v", key)
	}
	resp, err := cl.Request(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// names says whether req asks about topic.
func names(req kmsg.Request) bool {
	switch r := req.(type) {
	case *kmsg.MetadataRequest:
		for _, t := range r.Topics {
			if t.Topic != nil && *t.Topic == topic {
				return true
			}
		}
	case *kmsg.DescribeConfigsRequest:
		for _, rr := range r.Resources {
			if rr.ResourceName == topic {
				return true
			}
		}
	}
	return false
}

// lag makes broker node (-1: every broker) answer the next n requests of
// key about topic as it would have before the write.
func lag(t *testing.T, c *kfake.Cluster, cl *kgo.Client, key kmsg.Key, node int32, n int) (served func() int) {
	old := before(t, cl, key)
	return kfault.LagReads(c, key, n, func(at int32, req kmsg.Request, resp kmsg.Response) bool {
		if (node >= 0 && at != node) || !names(req) {
			return false
		}
		switch r := resp.(type) {
		case *kmsg.MetadataResponse:
			v := r.Version
			*r = *old.(*kmsg.MetadataResponse)
			r.Version = v
		case *kmsg.DescribeConfigsResponse:
			v := r.Version
			*r = *old.(*kmsg.DescribeConfigsResponse)
			r.Version = v
		}
		return true
	})
}

// TestWritesWaitUntilEveryBrokerShowsThem: each write returns only once
// the brokers show it, so that the command a person runs next (here the
// read after it) sees the change even while a broker lags behind its
// controller; a broker that never catches up is said plainly.
func TestWritesWaitUntilEveryBrokerShowsThem(t *testing.T) {
	cases := []struct {
		name    string
		brokers int
		exists  bool // the topic exists before the write
		key     kmsg.Key
		node    int32 // the broker that lags, -1 every one
		write   func(ctx context.Context, a *Admin) error
		read    func(ctx context.Context, a *Admin) error
		want    string // in the read's output
		notWant string
	}{
		{
			name: "create, then list", brokers: 1, key: kmsg.Metadata, node: -1,
			write: func(ctx context.Context, a *Admin) error {
				return a.CreateTopic(ctx, topic, 2, 1, map[string]string{"retention.ms": "3600000"})
			},
			read: func(ctx context.Context, a *Admin) error { return a.ListTopics(ctx, false, true) },
			want: topic + "\tpartitions 2",
		},
		{
			name: "partitions, then list", brokers: 1, exists: true, key: kmsg.Metadata, node: -1,
			write: func(ctx context.Context, a *Admin) error { return a.SetPartitions(ctx, topic, 4) },
			read:  func(ctx context.Context, a *Admin) error { return a.ListTopics(ctx, false, true) },
			want:  topic + "\tpartitions 4",
		},
		{
			name: "delete, then list", brokers: 1, exists: true, key: kmsg.Metadata, node: -1,
			write:   func(ctx context.Context, a *Admin) error { return a.DeleteTopic(ctx, topic) },
			read:    func(ctx context.Context, a *Admin) error { return a.ListTopics(ctx, false, false) },
			notWant: topic,
		},
		{
			name: "config set, then show", brokers: 1, exists: true, key: kmsg.DescribeConfigs, node: -1,
			write: func(ctx context.Context, a *Admin) error {
				return a.Config(ctx, topic, false, map[string]string{"cleanup.policy": "compact"})
			},
			read: func(ctx context.Context, a *Admin) error { return a.Config(ctx, topic, false, nil) },
			want: "cleanup.policy = compact",
		},
		{
			name: "config set, one broker of three lagging", brokers: 3, exists: true, key: kmsg.DescribeConfigs, node: 2,
			write: func(ctx context.Context, a *Admin) error {
				return a.Config(ctx, topic, false, map[string]string{"cleanup.policy": "compact"})
			},
		},
	}
	const stale = 3
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, a, out := newAdmin(t, tc.brokers)
			if tc.exists {
				if err := a.CreateTopic(ctx, topic, 2, 1, nil); err != nil {
					t.Fatal(err)
				}
			}
			served := lag(t, c, a.Kafka, tc.key, tc.node, stale)
			if err := tc.write(ctx, a); err != nil {
				t.Fatalf("write: %v", err)
			}
			if got := served(); got != stale {
				t.Fatalf("the write returned after %d of the %d stale answers", got, stale)
			}
			if tc.read == nil {
				return
			}
			out.Reset()
			if err := tc.read(ctx, a); err != nil {
				t.Fatalf("read: %v", err)
			}
			if tc.want != "" && !strings.Contains(out.String(), tc.want) {
				t.Fatalf("the read after the write lacks %q:\n%s", tc.want, out.String())
			}
			if tc.notWant != "" && strings.Contains(out.String(), tc.notWant) {
				t.Fatalf("the read after the write has %q:\n%s", tc.notWant, out.String())
			}
		})
	}

	t.Run("never visible", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, a, out := newAdmin(t, 1)
		if err := a.CreateTopic(ctx, topic, 1, 1, nil); err != nil {
			t.Fatal(err)
		}
		lag(t, c, a.Kafka, kmsg.DescribeConfigs, -1, 1<<30)
		a.Settle = time.Second
		out.Reset()
		err := a.Config(ctx, topic, false, map[string]string{"cleanup.policy": "compact"})
		if !errors.Is(err, ErrNotVisible) {
			t.Fatalf("err %v, want ErrNotVisible", err)
		}
		for _, w := range []string{"topic lsst.dm.a: set cleanup.policy=compact: accepted", "accepted by the cluster, not yet visible after 1s", "broker 0 shows lsst.dm.a's cleanup.policy = delete, not compact"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
		if out.Len() > 0 {
			t.Errorf("printed a configuration no broker shows yet:\n%s", out.String())
		}
	})
}

// newAdmin is an Admin on an embedded cluster of n brokers, writing its
// output into the buffer returned; the test's cleanup closes both.
func newAdmin(t *testing.T, n int) (*kfake.Cluster, *Admin, *bytes.Buffer) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	out := &bytes.Buffer{}
	a, err := New(c.ListenAddrs(), out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return c, a, out
}
