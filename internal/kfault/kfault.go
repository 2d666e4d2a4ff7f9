package kfault

import (
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CommitFault switches a cluster's refusal of offset commits.
type CommitFault struct{ on atomic.Bool }

// Set turns the fault on or off.
func (f *CommitFault) Set(on bool) { f.on.Store(on) }

// FailOffsetCommits installs a fault that, while on, answers every
// OffsetCommit with COORDINATOR_NOT_AVAILABLE for each partition, as an
// unreachable group coordinator does: consumers keep reading but their
// progress is not recorded. It starts off.
func FailOffsetCommits(c *kfake.Cluster) *CommitFault {
	f := &CommitFault{}
	c.ControlKey(kmsg.OffsetCommit.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !f.on.Load() {
			return nil, nil, false
		}
		r := req.(*kmsg.OffsetCommitRequest)
		resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, rt := range r.Topics {
			t := kmsg.NewOffsetCommitResponseTopic()
			t.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				p := kmsg.NewOffsetCommitResponseTopicPartition()
				p.Partition = rp.Partition
				p.ErrorCode = kerr.CoordinatorNotAvailable.Code
				t.Partitions = append(t.Partitions, p)
			}
			resp.Topics = append(resp.Topics, t)
		}
		return resp, nil, true
	})
	return f
}

// RefuseProduce answers the next n Produce requests with code for every
// partition (NOT_LEADER_FOR_PARTITION is a broker moving leadership), then
// lets requests through again. refused tells how many it refused so far.
func RefuseProduce(c *kfake.Cluster, n int, code int16) (refused func() int) {
	var count atomic.Int64
	c.ControlKey(kmsg.Produce.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if count.Load() >= int64(n) {
			return nil, nil, false
		}
		count.Add(1)
		c.KeepControl()
		r := req.(*kmsg.ProduceRequest)
		resp := r.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range r.Topics {
			t := kmsg.NewProduceResponseTopic()
			t.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				p := kmsg.NewProduceResponseTopicPartition()
				p.Partition = rp.Partition
				p.ErrorCode = code
				t.Partitions = append(t.Partitions, p)
			}
			resp.Topics = append(resp.Topics, t)
		}
		return resp, nil, true
	})
	return func() int { return int(count.Load()) }
}
