package kfault

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AutoCreateLikeKafka makes a cluster built with
// kfake.AllowAutoTopicCreation answer as real Kafka does when a metadata
// request creates a topic: the request that asks for a topic nobody has
// created yet is answered LEADER_NOT_AVAILABLE for it (real Kafka creates
// the topic then, but has no leader to name yet; here the next request
// creates it). A client that retries sees a short delay; a client that
// writes once loses that first write, which is the loss the AliECS
// documentation describes.
func AutoCreateLikeKafka(c *kfake.Cluster) {
	var mu sync.Mutex
	known := map[string]bool{}
	c.Fault(
		// Topics created explicitly are known from their creation on.
		kfake.Fault{Keys: []kmsg.Key{kmsg.CreateTopics}, Count: -1, Observe: true, When: func(req kmsg.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			for _, t := range req.(*kmsg.CreateTopicsRequest).Topics {
				known[t.Topic] = true
			}
			return false
		}},
		kfake.Fault{Keys: []kmsg.Key{kmsg.Metadata}, Count: -1, Err: kerr.LeaderNotAvailable, When: func(req kmsg.Request) bool {
			m := req.(*kmsg.MetadataRequest)
			mu.Lock()
			defer mu.Unlock()
			fresh := false
			for _, t := range m.Topics {
				if t.Topic == nil {
					continue
				}
				if !known[*t.Topic] {
					known[*t.Topic] = true
					fresh = fresh || m.AllowAutoTopicCreation
				}
			}
			return fresh
		}},
	)
}
