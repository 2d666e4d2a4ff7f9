package harness

// Steps that write SAL traffic and check what producers read, register
// and refuse.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

func (st *Steps) publish(ctx context.Context, csc, index, topic, rate, dur, domain string) error {
	dom, _ := strconv.Atoi(domain)
	return publishSome(ctx, PublishSpec{CSC: csc, Index: parseIndex(index), Topic: topic, Domain: dom}, rate, dur)
}

// publishSome writes p at rate Hz for dur s (the steps' words) and fails
// when nothing was written.
func publishSome(ctx context.Context, p PublishSpec, rate, dur string) error {
	p.RateHz, _ = strconv.ParseFloat(rate, 64)
	p.Duration = seconds(dur)
	tr, err := state(ctx).sc.Publish(ctx, p)
	if err != nil {
		return err
	}
	if len(tr.Writes()) == 0 {
		return fmt.Errorf("%s %s: nothing was written", p.CSC, p.Topic)
	}
	return nil
}

func (st *Steps) publishCount(ctx context.Context, csc, index, count, topic, domain string) error {
	n, _ := strconv.Atoi(count)
	dom, _ := strconv.Atoi(domain)
	if n <= 0 {
		return fmt.Errorf("publish %d samples: want at least one", n)
	}
	_, err := state(ctx).sc.Publish(ctx, PublishSpec{CSC: csc, Index: parseIndex(index), Topic: topic, Count: n, Domain: dom})
	return err
}

func (st *Steps) publishBackground(ctx context.Context, csc, index, topic, rate, dur, domain string) error {
	hz, _ := strconv.ParseFloat(rate, 64)
	dom, _ := strconv.Atoi(domain)
	_, err := state(ctx).sc.PublishAsync(PublishSpec{
		CSC: csc, Index: parseIndex(index), Topic: topic, RateHz: hz, Duration: seconds(dur), Domain: dom,
	})
	return err
}

func (st *Steps) hotAdd(ctx context.Context, csc, producer string) error {
	return st.Env.AddToProducer(ctx, producer, csc)
}

func (st *Steps) publishProcess(ctx context.Context, csc, index, topic, rate, dur, domain string) error {
	hz, _ := strconv.ParseFloat(rate, 64)
	dom, _ := strconv.Atoi(domain)
	tr, err := state(ctx).sc.PublishProcess(ctx, PublishSpec{
		CSC: csc, Index: parseIndex(index), Topic: topic, RateHz: hz, Duration: seconds(dur), Domain: dom,
	})
	if err != nil {
		return err
	}
	if len(tr.Writes()) == 0 {
		return fmt.Errorf("%s %s: the mocksal process wrote nothing", csc, topic)
	}
	return nil
}

// producerReadSince is how many samples of tr's topic producer read since
// tr started (its counter counts every index and scenario).
func (st *Steps) producerReadSince(ctx context.Context, producer string, tr *Traffic) (int64, error) {
	if err := tr.Wait(ctx); err != nil {
		return 0, err
	}
	n, err := st.Env.ProducerRead(ctx, producer, tr.Topic.CSC, tr.Topic.Name)
	return n - tr.ReadBefore[producer], err
}

func (st *Steps) producerReadNone(ctx context.Context, producer, csc, index, topic string) error {
	tr, err := st.traffic(ctx, csc, index, topic)
	if err != nil {
		return err
	}
	// "None" has no event to wait for: give samples in flight on the
	// bus the time they take to arrive.
	if err := st.pass(ctx, "0.2"); err != nil {
		return err
	}
	n, err := st.producerReadSince(ctx, producer, tr)
	if err != nil {
		return err
	}
	if n != 0 {
		return fmt.Errorf("producer %s has read %d samples of %s %s", producer, n, csc, topic)
	}
	return nil
}

func (st *Steps) producerReadAll(ctx context.Context, producer, csc, index, topic string) error {
	tr, err := st.traffic(ctx, csc, index, topic)
	if err != nil {
		return err
	}
	n, err := st.producerReadSince(ctx, producer, tr)
	if err != nil {
		return err
	}
	if want := int64(len(tr.Writes())); n < want {
		return fmt.Errorf("producer %s has read %d samples of %s %s, this scenario wrote %d", producer, n, csc, topic, want)
	}
	return nil
}

func (st *Steps) idsResolve(ctx context.Context, topic, site, source string) error {
	ids, err := st.Env.SchemaIDs(ctx, site, topic)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("topic %s at %s has no record", topic, site)
	}
	for id, n := range ids {
		here, err := st.Env.SchemaAt(ctx, site, topic, id)
		if err != nil {
			return fmt.Errorf("schema id %d (%d records of %s) does not resolve at %s: %w", id, n, topic, site, err)
		}
		there, err := st.Env.SchemaAt(ctx, source, topic, id)
		if err != nil {
			return fmt.Errorf("schema id %d does not resolve at %s: %w", id, source, err)
		}
		if here != there {
			return fmt.Errorf("schema id %d is a different schema at %s than at %s", id, site, source)
		}
	}
	return nil
}

func (st *Steps) changedProducer(ctx context.Context, site, csc, field, topic, idlType string) error {
	s := state(ctx)
	s.topicEnds = map[string]int64{}
	comp := st.Env.Stand.Loaded.Component(csc)
	if comp == nil || comp.Topic(topic) == nil {
		return fmt.Errorf("no topic %s of %s in the stand's interfaces", topic, csc)
	}
	name := comp.Topic(topic).KafkaTopic("")
	n, err := st.Env.TopicEnd(ctx, site, name)
	if err != nil {
		return err
	}
	s.topicEnds[site+"/"+name] = n
	s.startErr = st.Env.StartChangedProducer(ctx, site, csc, topic, field, idlType)
	return nil
}

func (st *Steps) producerRefused(ctx context.Context, want string) error {
	err := state(ctx).startErr
	if err == nil {
		return errors.New("the producer started")
	}
	if !strings.Contains(err.Error(), want) {
		return fmt.Errorf("the producer was refused, but its error does not name %q: %v", want, err)
	}
	return nil
}

func (st *Steps) noRecordAdded(ctx context.Context, topic, site string) error {
	before, ok := state(ctx).topicEnds[site+"/"+topic]
	if !ok {
		return fmt.Errorf("no record count of %s at %s was noted before", topic, site)
	}
	now, err := st.Env.TopicEnd(ctx, site, topic)
	if err != nil {
		return err
	}
	if now != before {
		return fmt.Errorf("%s at %s: %d records before, %d now", topic, site, before, now)
	}
	return nil
}
