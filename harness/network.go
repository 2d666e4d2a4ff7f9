// network.go holds the stand's fault layer (package netfault): the links
// its components reach other sites and a site's services through, the
// faults steps and the stand's standing faults put on them, and the
// healing after each scenario. The harness's own observers (taps,
// verdicts, the registry checks) never go through it: what a verdict
// reads is the truth, whatever the network does to the components.

package harness

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-ts/teststand/harness/backend"
	"github.com/lsst-ts/teststand/harness/netfault"
	"github.com/lsst-ts/teststand/harness/stand"
	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/internal/kafkasec"
)

// NetTarget names where a network fault acts.
type NetTarget = stand.NetTarget

// The services a network fault can stand in front of.
const (
	NetLink     = stand.NetLink
	NetRegistry = stand.NetRegistry
	NetInflux   = stand.NetInflux
	NetKafka    = stand.NetKafka
)

// startNetwork gives the stand its fault layer when its backend runs
// everything on loopback.
func (e *Env) startNetwork() {
	if backend.Has[backend.NetworkFaulter](e.Stand.Backend) {
		e.net = netfault.New()
	}
}

// viaURL is raw as a component reaches it: through the link of service
// at site where the stand has a fault layer.
func (e *Env) viaURL(service, site, raw string) (string, error) {
	if e.net == nil || raw == "" {
		return raw, nil
	}
	return e.net.Link(NetTarget{Service: service, Site: site}.Link()).URL(raw)
}

// viaURLs is viaURL for each URL.
func (e *Env) viaURLs(service, site string, raws []string) ([]string, error) {
	out := make([]string, len(raws))
	for i, r := range raws {
		var err error
		if out[i], err = e.viaURL(service, site, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// kafkaAs are the options of a component's client of a site's Kafka: as
// the KafkaUser of role on a secured stand, each connection dialed
// through the fault layer's link t where the stand has one (which then
// also speaks the TLS: franz-go takes a dialer or a TLS configuration).
func (e *Env) kafkaAs(role standsec.Role, t NetTarget) ([]kgo.Opt, error) {
	var dial kafkasec.Dial
	if e.net != nil {
		dial = e.net.Link(t.Link()).Dial
	}
	switch {
	case e.sec == nil && dial == nil:
		return nil, nil
	case e.sec == nil:
		return []kgo.Opt{kgo.Dialer(dial)}, nil
	case dial == nil:
		return standsec.Opts(e.sec.Kafka(role), e.Stand.Security.TLS())
	}
	return standsec.OptsVia(e.sec.Kafka(role), e.Stand.Security.TLS(), dial)
}

// ClientOpts are what a component of kind role at site takes to reach
// the site's Kafka (see kafkaAs).
func (e *Env) ClientOpts(site string, role standsec.Role) ([]kgo.Opt, error) {
	return e.kafkaAs(role, NetTarget{Service: NetKafka, Site: site})
}

// Network is the stand's fault layer, nil on a backend without one.
func (e *Env) Network() *netfault.Layer { return e.net }

// SetNetFault puts a fault on a target, in place of one of its kind.
func (e *Env) SetNetFault(t NetTarget, f netfault.Fault) error {
	k, err := e.netTarget(t)
	if err != nil {
		return err
	}
	e.log.Info("network fault", "target", t.String(), "fault", f.String())
	return k.Set(f)
}

// ClearNetFault takes the fault of a kind off a target.
func (e *Env) ClearNetFault(t NetTarget, kind netfault.Kind) error {
	k, err := e.netTarget(t)
	if err != nil {
		return err
	}
	e.log.Info("network fault cleared", "target", t.String(), "fault", string(kind))
	return k.Clear(kind)
}

// HoldNetFault keeps the fault of kind on t for d, then takes it off (at
// once when ctx ends first).
func (e *Env) HoldNetFault(ctx context.Context, t NetTarget, kind netfault.Kind, d time.Duration) error {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	return cmp.Or(e.ClearNetFault(t, kind), ctx.Err())
}

// HealNetwork takes every fault off the targets given (every link when
// none is) and sets the stand's standing faults on them again: what a
// scenario broke, the next one does not inherit.
func (e *Env) HealNetwork(targets ...NetTarget) error {
	if e.net == nil {
		return nil
	}
	var errs []error
	for _, name := range e.net.Links() {
		if len(targets) > 0 && !slices.ContainsFunc(targets, func(t NetTarget) bool { return t.Link() == name }) {
			continue
		}
		k := e.net.Link(name)
		for _, f := range k.Faults() {
			errs = append(errs, k.Clear(f.Kind))
		}
	}
	return errors.Join(append(errs, e.setStandingFaults(targets...))...)
}

// setStandingFaults sets the stand's faults, conditions for its whole
// life, on the targets given (every one when none is).
func (e *Env) setStandingFaults(targets ...NetTarget) error {
	for _, f := range e.Stand.Faults {
		if len(targets) > 0 && !slices.Contains(targets, f.Target()) {
			continue
		}
		for _, nf := range f.NetFaults() {
			if err := e.SetNetFault(f.Target(), nf); err != nil {
				return err
			}
		}
	}
	return nil
}

// netTarget is the fault layer's link for t, once t is known to be a
// target of this stand that its components reach through the layer.
func (e *Env) netTarget(t NetTarget) (*netfault.Link, error) {
	if e.net == nil {
		return nil, fmt.Errorf("%s: the %s backend has no network fault layer (its parts do not talk over this host's loopback): network faults need backend embedded or process", t, e.Stand.Backend)
	}
	switch t.Service {
	case NetLink:
		if _, err := e.linkFlows(t.From, t.To); err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		for _, f := range e.Stand.MM2Flows() {
			if via := e.Stand.MM2Link(t.From); f.Source.Value == t.From && f.Target.Value == t.To && via != t.To {
				return nil, fmt.Errorf("%s: MirrorMaker 2 reads %s over the link to %s (one bootstrap per cluster): a fault here would not reach it", t, t.From, via)
			}
		}
	case NetRegistry, NetInflux, NetKafka:
		se := e.Sites[t.Site]
		if se == nil {
			return nil, fmt.Errorf("%s: unknown site %q", t, t.Site)
		}
		if t.Service == NetRegistry && se.RegistryURL == "" && len(se.RemoteURLs) == 0 {
			return nil, fmt.Errorf("%s: the site has no registry", t)
		}
		if t.Service == NetInflux && se.InfluxURL == "" {
			return nil, fmt.Errorf("%s: the site has no InfluxDB", t)
		}
		if t.Service == NetKafka {
			if outside := e.Stand.KafkaClientsOutside(t.Site); len(outside) > 0 {
				return nil, fmt.Errorf("%s: %s learn the brokers' addresses from metadata outside this process; only in-process clients reach a site's Kafka through the fault layer", t, strings.Join(outside, ", "))
			}
		}
	default:
		return nil, fmt.Errorf("network fault on %q: want one of %s, %s, %s, %s", t.Service, NetLink, NetRegistry, NetInflux, NetKafka)
	}
	return e.net.Link(t.Link()), nil
}

// linkFlows are the flows from one site to another, in process or in
// MirrorMaker 2 (the deployment's own replicators are not the stand's to
// cut off).
func (e *Env) linkFlows(from, to string) ([]string, error) {
	var names []string
	for _, f := range e.Stand.Replication {
		if f.Source.Value == from && f.Target.Value == to && f.Run != ExternalRun && !slices.Contains(names, f.Name) {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no replication flow of this stand runs from %s to %s", from, to)
	}
	return names, nil
}

// reach is how a site's components reach its services: through the
// links of the fault layer where the stand has one. Its first error (a
// proxy that could not listen) sticks and Err reports it.
type reach struct {
	e    *Env
	site string
	se   *SiteEnv
	err  error
}

// reach is how the components of site reach its services.
func (e *Env) reach(site string) *reach { return &reach{e: e, site: site, se: e.Sites[site]} }

func (r *reach) via(service, raw string) string {
	u, err := r.e.viaURL(service, r.site, raw)
	if err != nil && r.err == nil {
		r.err = err
	}
	return u
}

// registry is the URL of the site's registry (see SiteEnv.RegistryURL).
func (r *reach) registry() string { return r.via(NetRegistry, r.se.RegistryURL) }

// registryFor is the URL of the registry a sink rule names.
func (r *reach) registryFor(name string) string { return r.via(NetRegistry, r.se.RegistryFor(name)) }

// influx is the URL of the site's InfluxDB.
func (r *reach) influx() string { return r.via(NetInflux, r.se.InfluxURL) }

// kafka are an in-process client's options as the KafkaUser of role,
// ending with the dialer through the site's Kafka link.
func (r *reach) kafka(role standsec.Role, opts ...kgo.Opt) []kgo.Opt {
	return r.opts(opts, role, NetTarget{Service: NetKafka, Site: r.site})
}

// link are a flow's source client's options: as the replicator, over the
// link from the source to this site.
func (r *reach) link(from string, opts ...kgo.Opt) []kgo.Opt {
	return r.opts(opts, standsec.Replicator, NetTarget{Service: NetLink, From: from, To: r.site})
}

func (r *reach) opts(opts []kgo.Opt, role standsec.Role, t NetTarget) []kgo.Opt {
	more, err := r.e.kafkaAs(role, t)
	if err != nil && r.err == nil {
		r.err = err
	}
	return append(opts, more...)
}

// Err is the first error met.
func (r *reach) Err() error { return r.err }
