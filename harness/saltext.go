package harness

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/saltransform"
)

// startSalTransform runs a SAL text transform at its site, ready once its
// input topics exist.
func (e *Env) startSalTransform(ctx context.Context, x *SalTransformSpec) error {
	se := e.Sites[x.Site.Value]
	cscs := make([]string, len(x.CSCs))
	for i, c := range x.CSCs {
		cscs[i] = c.Value
	}
	var ready func()
	via := e.reach(x.Site.Value)
	ru, rp := e.registryAuth()
	t, err := saltransform.New(saltransform.Config{
		Brokers: se.Brokers, RegistryURL: via.registry(), RegistryUsername: ru, RegistryPassword: rp, Interfaces: e.Stand.Loaded, CSCs: cscs,
		GroupID: "saltransform-" + x.Name, Logger: e.log.With("component", "SAL transform "+x.Name),
		KafkaOpts: via.kafka(standsec.Producer, kgo.MetadataMinAge(100*time.Millisecond), kgo.MetadataMaxAge(time.Second)),
		Ready:     func() { ready() },
	})
	if err = cmp.Or(via.Err(), err); err != nil {
		return fmt.Errorf("SAL transform %s: %w", x.Name, err)
	}
	stats := func() map[string]int64 {
		return map[string]int64{"transformed": t.Stats.Transformed.Load(), "malformed": t.Stats.Malformed.Load()}
	}
	return e.startComponent(ctx, x.Name, "SAL transform", stats, nil, func(ctx context.Context, r func()) error {
		ready = r
		return t.Run(ctx)
	}, nil)
}

// textPublisher writes samples as SAL text lines to a site's Kafka, each
// acknowledged before the next is written; close releases its client.
func (e *Env) textPublisher(site string) (func(context.Context, *sal.Sample) (int, error), func(), error) {
	se := e.Sites[site]
	if se == nil {
		return nil, nil, fmt.Errorf("no site %q", site)
	}
	cl, err := se.client(kgo.ProducerLinger(0))
	if err != nil {
		return nil, nil, err
	}
	pub := func(ctx context.Context, s *sal.Sample) (int, error) {
		r := &kgo.Record{Topic: saltransform.InputTopic(s.Topic), Value: []byte(saltransform.Format(s))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			return 0, fmt.Errorf("SAL text to %s at %s: %w", r.Topic, site, err)
		}
		return 1, nil
	}
	return pub, cl.Close, nil
}

func (st *Steps) publishText(ctx context.Context, csc, index, topic, site, rate, dur string) error {
	if st.Env.Sites[site] == nil {
		return fmt.Errorf("no site %q", site)
	}
	return publishSome(ctx, PublishSpec{CSC: csc, Index: parseIndex(index), Topic: topic, TextSite: site}, rate, dur)
}

func (st *Steps) writeLine(ctx context.Context, line, topic, site string) error {
	se := st.Env.Sites[site]
	if se == nil {
		return fmt.Errorf("no site %q", site)
	}
	cl, err := se.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(line)}).FirstErr()
}

func (st *Steps) transformSkipped(ctx context.Context, name, count, within string) error {
	want, _ := strconv.ParseInt(count, 10, 64)
	var got int64
	return wait.ForCondition(fmt.Sprintf("SAL transform %s skipping %d malformed messages", name, want), func(ctx context.Context) error {
		stats := st.Env.Stats()[name]
		if stats == nil {
			return fmt.Errorf("no SAL transform named %q", name)
		}
		got = stats["malformed"]
		if got != want {
			return fmt.Errorf("it skipped %d", got)
		}
		return nil
	}).WithTimeout(seconds(within)).WaitUntilReady(ctx)
}
