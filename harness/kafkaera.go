package harness

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/kafkasal"
	"github.com/lsst-ts/teststand/sal"
)

// kafkaWriter is a Kafka-era SAL component of the stand's writer group
// name, writing t (created and its schema registered first); Close
// flushes it.
func (e *Env) kafkaWriter(ctx context.Context, name string, t *sal.Topic) (*kafkasal.Writer, error) {
	w := e.Stand.Writer(name)
	if w == nil {
		return nil, fmt.Errorf("no writer group %q in the stand", name)
	}
	se := e.Sites[w.Site.Value]
	via := e.reach(w.Site.Value)
	cfg := kafkasal.Config{Brokers: se.Brokers, RegistryURL: via.registry(), KafkaOpts: via.kafka(standsec.Producer), RegistryOpts: e.registryClientOpts(), Subname: cmp.Or(w.Subname, "sal"),
		ReplicationFactor: w.ReplicationFactor, Acks: w.WaitAck, Logger: e.log.With("component", "writer "+name)}
	if err := via.Err(); err != nil {
		return nil, err
	}
	return kafkasal.Open(ctx, cfg, []*sal.Topic{t})
}

func (st *Steps) publishKafka(ctx context.Context, csc, index, topic, rate, dur, writer string) error {
	w := st.Env.Stand.Writer(writer)
	if w == nil {
		return fmt.Errorf("no writer group %q in the stand", writer)
	}
	if !slices.ContainsFunc(w.CSCs, func(c Ref) bool { n, _, _ := strings.Cut(c.Value, ":"); return n == csc }) {
		return fmt.Errorf("writer group %q has no %s (it has %v)", writer, csc, w.CSCs)
	}
	return publishSome(ctx, PublishSpec{CSC: csc, Index: parseIndex(index), Topic: topic, KafkaWriter: writer}, rate, dur)
}
