package kafkaproc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/standsec"
)

// TestSecuredCluster runs a two-node Apache Kafka secured with a run's
// secrets (SASL/SCRAM-SHA-512 over TLS, ACLs enforced): the superuser
// creates a topic, the producer's user writes it, the sink's user reads
// it and is refused a write, a client without credentials and one with a
// wrong password get nothing, and no node's log or configuration file
// readable by others holds a password.
func TestSecuredCluster(t *testing.T) {
	lib, err := FindLib("../..")
	if err != nil {
		t.Fatal(err)
	}
	sec, err := standsec.New(filepath.Join(t.TempDir(), "secrets"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, err := Start(ctx, Config{Lib: lib, Nodes: 2, Security: &Security{TLS: true, CertFile: sec.CertFile, KeyFile: sec.KeyFile,
		BrokerPassword: sec.BrokerPassword, Users: sec.Users()}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()

	as := func(r standsec.Role, opts ...kgo.Opt) *kgo.Client {
		t.Helper()
		sopts, err := standsec.Opts(sec.Kafka(r), true)
		if err != nil {
			t.Fatal(err)
		}
		cl, err := kgo.NewClient(append(append([]kgo.Opt{kgo.SeedBrokers(c.Seeds()...), kgo.RequestRetries(1)}, opts...), sopts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	const topic = "lsst.sal.ATDome.position"
	if _, err := kadm.NewClient(as(standsec.Admin)).CreateTopic(ctx, 1, 2, nil, topic); err != nil {
		t.Fatalf("the superuser creates a topic: %v", err)
	}
	if err := as(standsec.Producer).ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("ts-salkafka writes lsst.sal.*: %v", err)
	}
	err = as(standsec.Producer).ProduceSync(ctx, &kgo.Record{Topic: "other", Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("ts-salkafka writes a topic outside lsst.sal: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	sink := as(standsec.Sink, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	fs := sink.PollRecords(rctx, 1)
	rcancel()
	if fs.NumRecords() != 1 || string(fs.Records()[0].Value) != "x" {
		t.Fatalf("telegraf reads the topic: %d records, errors %v", fs.NumRecords(), fs.Errors())
	}
	// Not idempotent: a user with no Write anywhere is refused the
	// producer id first (CLUSTER_AUTHORIZATION_FAILED), before any topic.
	err = as(standsec.Sink, kgo.DisableIdempotentWrite()).ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("y")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("telegraf writes: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}

	refused := func(what string, opts ...kgo.Opt) {
		t.Helper()
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.Seeds()...), kgo.RequestRetries(0)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		mctx, mcancel := context.WithTimeout(ctx, 10*time.Second)
		defer mcancel()
		if _, err := kadm.NewClient(cl).BrokerMetadata(mctx); err == nil {
			t.Fatalf("%s: the cluster answered", what)
		}
	}
	refused("no credentials, TLS", kgo.DialTLSConfig(sec.ClientTLS()))
	refused("no credentials, no TLS")
	wrong := sec.Kafka(standsec.Admin)
	wrong.Password += "x"
	wopts, err := standsec.Opts(wrong, true)
	if err != nil {
		t.Fatal(err)
	}
	refused("a wrong password", wopts...)

	secrets := sec.Values()
	logs := c.Logs(1 << 30)
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Fatalf("a secret is in the nodes' logs")
		}
	}
	for _, conf := range c.confs {
		fi, err := os.Stat(conf)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v: want 0600", conf, err, fi.Mode().Perm())
		}
	}
}
