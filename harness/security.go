// security.go holds a secured stand's secrets (package standsec): made
// for the run before its sites start, handed to the backend for its
// Kafka, to the harness's own clients as the superuser, and to each
// component as the KafkaUser of its kind.

package harness

import (
	"context"
	"errors"
	"fmt"
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

// secretFile writes a secret for a process the stand starts into the
// run's secrets directory (mode 0700, gone with the stand), mode 0600,
// and returns its path: the process reads it (@FILE), so that the secret
// is on no command line.
func (e *Env) secretFile(name, secret string) (string, error) {
	dir := filepath.Join(e.tmp, "secrets")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(secret), 0o600); err != nil {
		return "", err
	}
	return path, nil
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
// returns what the brokers answered: nil when they allowed it. A write is
// refused before anything is written or the topic looked up, so that a
// refused probe leaves the topic as it was; a write that is allowed
// fails this method rather than put a record no writer of the stand
// wrote.
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
		// the batch: a corrupt batch is refused TOPIC_AUTHORIZATION_FAILED
		// by a user who may not write, and CORRUPT_MESSAGE (or
		// NOT_LEADER, UNKNOWN_TOPIC) by one who may, nothing written.
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = -1, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = []byte("not a record batch")
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
				case errors.Is(err, kerr.CorruptMessage), errors.Is(err, kerr.InvalidRecord),
					errors.Is(err, kerr.NotLeaderForPartition), errors.Is(err, kerr.UnknownTopicOrPartition):
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
