package producer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/internal/kafkasec"
	"github.com/lsst-ts/teststand/registry"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

// TestSCRAMAuthentication runs the producer against a cluster that only
// takes SCRAM-SHA-512 users, as Sasquatch's: the right password works, a
// wrong one fails at start, and the error never shows the password.
func TestSCRAMAuthentication(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "salkafka", "s3cret-pw"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reg, err := registry.Start(ctx, registry.Config{Brokers: c.ListenAddrs(),
		KafkaOpts: []kgo.Opt{kgo.SASL(scram.Auth{User: "salkafka", Pass: "s3cret-pw"}.AsSha512Mechanism())}})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	ifaces, _ := sal.Load(sample.FS, sal.Avro(sample.Avro))
	cases := []struct {
		name string
		sec  kafkasec.Config
		ok   bool
	}{
		{"right password", kafkasec.Config{Username: "salkafka", Password: "s3cret-pw"}, true},
		{"wrong password", kafkasec.Config{Username: "salkafka", Password: "wrong-pw"}, false},
		{"no credentials", kafkasec.Config{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bus := dds.NewBus()
			defer bus.Close()
			cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer ccancel()
			p, err := New(cctx, Config{Brokers: c.ListenAddrs(), RegistryURL: reg.URL(), Bus: bus, Interfaces: ifaces,
				Components: []string{"ATDome"}, Security: tc.sec, KafkaOpts: []kgo.Opt{kgo.RequestRetries(1)}})
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				p.close()
				return
			}
			if err == nil {
				p.close()
				t.Fatal("started without valid credentials")
			}
			if strings.Contains(err.Error(), "wrong-pw") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
	if _, err := (kafkasec.Config{Protocol: "SASL_SSL", Username: "u"}).Opts(); err == nil {
		t.Error("SASL without a password: no error")
	}
	if _, err := (kafkasec.Config{Protocol: "KERBEROS"}).Opts(); err == nil {
		t.Error("unknown protocol: no error")
	}
}
