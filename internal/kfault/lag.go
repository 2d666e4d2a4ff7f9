package kfault

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// LagReads makes the cluster answer the next n requests of key that stale
// takes as a broker behind its controller does (real Kafka's brokers learn
// a create, a config change or a delete from the metadata log a moment
// after the controller has answered the write): stale fills resp, made for
// req's version, with what the broker knew before, and returns true; or
// returns false to let req through to the cluster. node is the broker asked,
// for a fault on one broker of several. served tells how many requests got
// a stale answer so far.
func LagReads(c *kfake.Cluster, key kmsg.Key, n int, stale func(node int32, req kmsg.Request, resp kmsg.Response) bool) (served func() int) {
	var count atomic.Int64
	c.ControlKey(key.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if count.Load() >= int64(n) {
			return nil, nil, false
		}
		resp := req.ResponseKind()
		if !stale(c.CurrentNode(), req, resp) {
			return nil, nil, false
		}
		count.Add(1)
		return resp, nil, true
	})
	return func() int { return int(count.Load()) }
}

// HoldFetches holds each Fetch of topic that arrives within d from now
// until d has passed, as a consumer lags that is slow to get its answers
// (a loaded reader, a slow link): what is produced meanwhile reaches it
// only after d. held is closed when the first fetch is held, so that a
// test can write knowing the consumer cannot have it yet (a fetch already
// waiting at the broker when HoldFetches is called is not held). The
// topic must exist: fetches name it by its id.
func HoldFetches(c *kfake.Cluster, topic string, d time.Duration) (held <-chan struct{}) {
	var id [16]byte
	if ti := c.TopicInfo(topic); ti != nil {
		id = ti.TopicID
	}
	until := time.Now().Add(d)
	ch := make(chan struct{})
	var once sync.Once
	c.ControlKey(kmsg.Fetch.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		left := time.Until(until)
		if left <= 0 {
			c.DropControl()
			return nil, nil, false
		}
		c.KeepControl()
		for _, t := range req.(*kmsg.FetchRequest).Topics {
			if t.Topic == topic || (t.TopicID == id && id != [16]byte{}) {
				once.Do(func() { close(ch) })
				c.SleepControl(func() { time.Sleep(left) })
				break
			}
		}
		return nil, nil, false
	})
	return ch
}
