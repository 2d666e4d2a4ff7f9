// security.go holds a secured stand's secrets (package standsec): made
// for the run before its sites start, handed to the backend for its
// Kafka, to the harness's own clients as the superuser, and to each
// component as the KafkaUser of its kind.

package harness

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

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
