// security.go holds a secured stand's secrets (package standsec): made
// for the run before its sites start, handed to the backend for its
// Kafka, to the harness's own clients as the superuser, and to each
// component as the KafkaUser of its kind.

package harness

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/harness/standsec"
)

// makeSecrets makes the run's secrets for a secured stand.
func (e *Env) makeSecrets() error {
	if e.Stand.Security == nil {
		return nil
	}
	var topics []string
	for _, name := range e.Stand.SiteNames() {
		site := e.Stand.Sites[name]
		if site.Registry != nil {
			topics = append(topics, site.Registry.StorageTopic())
		}
		for _, r := range site.RemoteRegistries {
			if t, err := e.Stand.RemoteRegistryTopic(name, r.Alias.Value); err == nil {
				topics = append(topics, t)
			}
		}
	}
	sec, err := standsec.New(filepath.Join(e.tmp, "secrets"), topics)
	if err != nil {
		return err
	}
	e.sec = sec
	if onSecrets != nil {
		onSecrets(sec)
	}
	return nil
}

// adminOpts are the harness's own client options for a secured site.
func (e *Env) adminOpts() ([]kgo.Opt, error) {
	if e.sec == nil {
		return nil, nil
	}
	return standsec.Opts(e.sec.Kafka(standsec.Admin), e.Stand.Security.TLS())
}

// client is a harness client of the site's Kafka: its brokers, opts,
// and the site's own client options (a secured site's superuser).
func (se *SiteEnv) client(opts ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append(append([]kgo.Opt{kgo.SeedBrokers(se.Brokers...)}, opts...), se.KafkaOpts...)...)
}

// registryAuth is the registries' basic auth on a secured stand ("" when
// they take none).
func (e *Env) registryAuth() (user, password string) {
	if e.sec == nil || !e.Stand.Security.RegistryAuth() {
		return "", ""
	}
	return e.sec.RegistryUser, e.sec.RegistryPassword
}

// registryClientOpts are a registry client's options beyond its URL.
func (e *Env) registryClientOpts() []sr.ClientOpt {
	if u, p := e.registryAuth(); u != "" {
		return []sr.ClientOpt{sr.BasicAuth(u, p)}
	}
	return nil
}

// createStorageTopic creates a registry's storage topic (compacted, one
// partition, as the registry would) as the site's superuser.
func (e *Env) createStorageTopic(ctx context.Context, site, topic string) error {
	cl, err := e.Sites[site].client()
	if err != nil {
		return err
	}
	defer cl.Close()
	compact := "compact"
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, 1, -1, map[string]*string{"cleanup.policy": &compact}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("site %s: registry storage topic %s: %w", site, topic, err)
	}
	return nil
}

// onSecrets, when set (by a test), is handed each run's secrets as they
// are made: a test looks for them in what the run wrote.
var onSecrets func(*standsec.Secrets)

// roleNamed is the role whose KafkaUser is named name.
func roleNamed(name string) (standsec.Role, error) {
	for _, r := range standsec.Roles {
		if string(r) == name {
			return r, nil
		}
	}
	return "", fmt.Errorf("no Kafka user %q on a secured stand (users: %v)", name, standsec.Roles)
}

// TryAs tries to read (the first record of) or write topic at site as
// the Kafka user named user, directly (never through the fault layer), and
// returns what the brokers answered: nil when they allowed it. A write
// probe is a well-formed batch for a partition the topic has not, so
// that nothing is written whether the brokers allow it or not: the
// topic is left as the stand's writers made it.
func (e *Env) TryAs(ctx context.Context, user, op, topic, site string) error {
	if e.sec == nil {
		return errors.New("the stand is not secured (no security: block): its Kafka takes every client")
	}
	se := e.Sites[site]
	if se == nil {
		return fmt.Errorf("unknown site %q", site)
	}
	role, err := roleNamed(user)
	if err != nil {
		return err
	}
	opts, err := standsec.Opts(e.sec.Kafka(role), e.Stand.Security.TLS())
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	switch op {
	case "read":
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(se.Brokers...), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.RequestRetries(0)}, opts...)...)
		if err != nil {
			return err
		}
		defer cl.Close()
		for {
			fs := cl.PollRecords(cctx, 1)
			if err := cctx.Err(); err != nil {
				return fmt.Errorf("read %s at %s as %s: no record and no refusal within 15 s", topic, site, user)
			}
			for _, fe := range fs.Errors() {
				return fe.Err
			}
			if fs.NumRecords() > 0 {
				return nil
			}
		}
	case "write":
		// Produce v12 and before name their topics (v13 gives ids).
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(se.Brokers...), kgo.MaxVersions(kversion.V3_9_0())}, opts...)...)
		if err != nil {
			return err
		}
		defer cl.Close()
		// Kafka authorizes a produce before it looks at the partition or
		// validates the batch: a well-formed batch for a partition no
		// topic has is refused TOPIC_AUTHORIZATION_FAILED to a user who
		// may not write, and UNKNOWN_TOPIC_OR_PARTITION (or NOT_LEADER) to
		// one who may, nothing written either way. (A corrupt batch will
		// not do: Apache Kafka scans the batches for transactional ones
		// before it authorizes, and answers CORRUPT_MESSAGE to anyone.)
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = -1, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition = probePartition
		rp.Records = probeBatch()
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(cctx, cl)
		if err != nil {
			return err
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				switch err := kerr.ErrorForCode(p.ErrorCode); {
				case errors.Is(err, kerr.TopicAuthorizationFailed):
					return err
				case errors.Is(err, kerr.NotLeaderForPartition), errors.Is(err, kerr.UnknownTopicOrPartition):
					return nil // authorized, refused after: nothing written
				default:
					return fmt.Errorf("write probe of %s at %s as %s: the brokers answered %v, which says nothing of its authorization", topic, site, user, err)
				}
			}
		}
		return fmt.Errorf("write probe of %s at %s as %s: no answer for the topic", topic, site, user)
	}
	return fmt.Errorf("operation %q: want read or write", op)
}

// probePartition is the partition a write probe addresses: one no topic
// of a stand has.
const probePartition = 1<<31 - 1

// probeBatch is a well-formed record batch of one record (magic 2, its
// CRC-32C right), as a producer would send it.
func probeBatch() []byte {
	rec := kmsg.Record{Value: []byte("teststand write probe")}
	body := rec.AppendTo(nil)
	rec.Length = int32(len(body) - 1) // the body after the zero length's one byte
	b := kmsg.RecordBatch{Magic: 2, ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: 1,
		FirstTimestamp: time.Now().UnixMilli(), Records: rec.AppendTo(nil)}
	b.MaxTimestamp = b.FirstTimestamp
	raw := b.AppendTo(nil)
	b.Length = int32(len(raw) - 12) // after the first offset and the length
	raw = b.AppendTo(nil)
	b.CRC = int32(crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli))) // from the attributes on
	return b.AppendTo(nil)
}

// TryAnonymous asks a site's Kafka for metadata with no credentials (over
// TLS when the site speaks it) and returns nil if it answered.
func (e *Env) TryAnonymous(ctx context.Context, site string) error {
	se := e.Sites[site]
	if se == nil {
		return fmt.Errorf("unknown site %q", site)
	}
	opts := []kgo.Opt{kgo.SeedBrokers(se.Brokers...), kgo.RequestRetries(0)}
	if e.sec != nil && e.Stand.Security.TLS() {
		opts = append(opts, kgo.DialTLSConfig(e.sec.ClientTLS()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = kadm.NewClient(cl).BrokerMetadata(cctx)
	return err
}

// TryInfluxAnonymous asks a site's InfluxDB, directly (never through the
// fault layer), for its databases and to take an empty write into the
// site's first database, both without credentials, and returns what it
// answered ("a query", "a write"): an InfluxDB with authentication on
// answers neither, refusing each with 401. An empty write adds nothing
// when it is let through. err is a failure that is no refusal.
func (e *Env) TryInfluxAnonymous(ctx context.Context, site string) (answered []string, err error) {
	se, spec := e.Sites[site], e.Stand.Sites[site]
	if se == nil || spec == nil {
		return nil, fmt.Errorf("unknown site %q", site)
	}
	if spec.InfluxDB == nil || se.InfluxURL == "" || len(spec.InfluxDB.Names()) == 0 {
		return nil, fmt.Errorf("site %s has no InfluxDB", site)
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	anon := se.Influx().Anonymous()
	_, qerr := anon.Query(cctx, "", "SHOW DATABASES")
	werr := anon.Write(cctx, e.Database(site, spec.InfluxDB.Names()[0]), "")
	for _, p := range []struct {
		what string
		err  error
	}{{"a query", qerr}, {"a write", werr}} {
		var status *influxd.StatusError
		switch {
		case influxd.Unauthorized(p.err):
		case p.err == nil || errors.As(p.err, &status):
			answered = append(answered, p.what) // let through, whatever it said of the request
		default:
			return nil, p.err
		}
	}
	return answered, nil
}

// binaryFlags are the command-line flags that give a binary of the
// project the KafkaUser of role and the registries' basic auth on a
// secured stand (none on an open one): each password in a file only its
// owner reads, named as @FILE, so that no secret is in a process listing.
func (e *Env) binaryFlags(role standsec.Role) ([]string, error) {
	if e.sec == nil {
		return nil, nil
	}
	k := e.sec.KafkaOn(role, e.Stand.Security.TLS())
	file, err := e.secretFile("kafka-"+string(role), k.Password)
	if err != nil {
		return nil, err
	}
	args := []string{"--security-protocol", k.Protocol, "--sasl-mechanism", k.Mechanism, "--username", k.Username, "--password", "@" + file}
	if k.CAFile != "" {
		args = append(args, "--tls-ca", k.CAFile)
	}
	if u, p := e.registryAuth(); u != "" {
		file, err := e.secretFile("registry", p)
		if err != nil {
			return nil, err
		}
		args = append(args, "--registry-username", u, "--registry-password", "@"+file)
	}
	return args, nil
}

// secretFile writes a secret into the run's secrets directory (0600,
// removed with the stand) and returns its path.
func (e *Env) secretFile(name, secret string) (string, error) {
	path := filepath.Join(filepath.Dir(e.sec.CAFile), name+".secret")
	if err := os.WriteFile(path, []byte(secret), 0o600); err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	return path, nil
}
