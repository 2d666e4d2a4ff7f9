package stand

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lsst-ts/teststand/internal/yamlx"
	"github.com/lsst-ts/teststand/sal"
)

// checkProducers checks the producers: their sites, CSCs, figures and
// run modes; seen collects the stand's component names.
func (s *Stand) checkProducers(seen map[string]bool) error {
	for i, p := range s.Producers {
		what := "producer " + strconv.Quote(p.Name)
		at := func(key string) string { return s.where(yamlx.Path{"producers", i, key}) }
		if seen[p.Name] {
			return fmt.Errorf("%s: duplicate component name %q", at("name"), p.Name)
		}
		seen[p.Name] = true
		if err := s.checkSALWriter(what, at, p.Site, p.CSCs, p.ReplicationFactor, p.WaitAck, "producers", i); err != nil {
			return err
		}
		if err := checkRun(ProducerKind, p.Run, s.Backend); err != nil {
			return fmt.Errorf("%s: %s: %w", at("run"), what, err)
		}
	}
	return nil
}

// checkWriters checks the Kafka-era writer groups: names, sites with a
// registry, transport, CSCs, figures; seen collects component names.
func (s *Stand) checkWriters(seen map[string]bool) error {
	for i, w := range s.Writers {
		what := "writer " + strconv.Quote(w.Name)
		at := func(key string) string { return s.where(yamlx.Path{"writers", i, key}) }
		if w.Name == "" {
			return fmt.Errorf("%s: a writer has no name", s.where(yamlx.Path{"writers", i}))
		}
		if seen[w.Name] {
			return fmt.Errorf("%s: duplicate component name %q", at("name"), w.Name)
		}
		seen[w.Name] = true
		if w.SAL != "kafka" {
			return fmt.Errorf("%s: %s: sal %q: want kafka (Kafka-era SAL; DDS-era components write on a domain a producer serves)", at("sal"), what, w.SAL)
		}
		if err := s.checkSALWriter(what, at, w.Site, w.CSCs, w.ReplicationFactor, w.WaitAck, "writers", i); err != nil {
			return err
		}
		for j, c := range w.CSCs {
			name, idx, _ := sal.ParseCSC(c.Value)
			if o := s.WriterFor(w.Domain, name, idx); o != nil && o != w {
				return fmt.Errorf("%s: %s: %s on domain %d is written by writer %q already", s.where(yamlx.Path{"writers", i, "cscs", j}), what, c.Value, w.Domain, o.Name)
			}
		}
	}
	return nil
}

// checkSALWriter checks what a producer and a Kafka-era writer group
// share: they write CSCs' topics to their site's Kafka, with its registry,
// a replication factor its brokers allow, and acks Kafka knows. at places
// a key of the entry; path is the entry's.
func (s *Stand) checkSALWriter(what string, at func(string) string, site Ref, cscs []Ref, rf int16, waitAck string, path ...any) error {
	if err := s.checkSiteRef(site, what, path...); err != nil {
		return err
	}
	st := s.Sites[site.Value]
	if st.Registry == nil {
		return fmt.Errorf("%s: %s: site %q has no registry", s.at(site), what, site.Value)
	}
	if len(cscs) == 0 {
		return fmt.Errorf("%s: %s: no cscs listed", at("cscs"), what)
	}
	for _, c := range cscs {
		if err := s.CheckCSC(c, what); err != nil {
			return err
		}
	}
	if rf > int16(st.Kafka.Brokers) {
		return fmt.Errorf("%s: %s: replication_factor %d exceeds the site's %d brokers", at("replication_factor"), what, rf, st.Kafka.Brokers)
	}
	switch waitAck {
	case "", "0", "1", "all":
	default:
		return fmt.Errorf("%s: %s: wait_ack %q: want 0, 1 or all", at("wait_ack"), what, waitAck)
	}
	return nil
}

// checkRestProxies checks the REST proxies: names, sites with a
// registry of their own, run modes, tokens.
func (s *Stand) checkRestProxies(seen map[string]bool) error {
	for i, r := range s.RestProxies {
		what := "REST proxy " + strconv.Quote(r.Name)
		if r.Name == "" {
			return fmt.Errorf("%s: a REST proxy has no name", s.where(yamlx.Path{"rest_proxies", i}))
		}
		if seen[r.Name] {
			return fmt.Errorf("%s: duplicate component name %q", s.where(yamlx.Path{"rest_proxies", i, "name"}), r.Name)
		}
		seen[r.Name] = true
		if err := s.checkSiteRef(r.Site, what, "rest_proxies", i); err != nil {
			return err
		}
		if s.Sites[r.Site.Value].Registry == nil {
			return fmt.Errorf("%s: %s: site %q has no registry it can register schemas in (a remote registry is read-only)", s.at(r.Site), what, r.Site.Value)
		}
		if err := checkRun(RestProxyKind, r.Run, s.Backend); err != nil {
			return fmt.Errorf("%s: %s: %w", s.at(r.Site), what, err)
		}
		for tok, prefixes := range r.Tokens {
			if len(prefixes) == 0 || slices.Contains(prefixes, "") {
				return fmt.Errorf("%s: %s: token %.4s…: want topic prefixes such as [lsst.dm]", s.where(yamlx.Path{"rest_proxies", i, "tokens", tok}), what, tok)
			}
		}
	}
	return nil
}

// checkSalTransforms checks the SAL text transforms: names, sites with a
// registry of their own, and CSCs no producer of the site also serves.
func (s *Stand) checkSalTransforms(seen map[string]bool) error {
	for i, x := range s.SalTransforms {
		what := "SAL transform " + strconv.Quote(x.Name)
		if x.Name == "" {
			return fmt.Errorf("%s: a SAL transform has no name", s.where(yamlx.Path{"sal_transforms", i}))
		}
		if seen[x.Name] {
			return fmt.Errorf("%s: duplicate component name %q", s.where(yamlx.Path{"sal_transforms", i, "name"}), x.Name)
		}
		seen[x.Name] = true
		if err := s.checkSiteRef(x.Site, what, "sal_transforms", i); err != nil {
			return err
		}
		if s.Sites[x.Site.Value].Registry == nil {
			return fmt.Errorf("%s: %s: site %q has no registry it can register schemas in (a remote registry is read-only)", s.at(x.Site), what, x.Site.Value)
		}
		if len(x.CSCs) == 0 {
			return fmt.Errorf("%s: %s: no cscs listed", s.where(yamlx.Path{"sal_transforms", i, "cscs"}), what)
		}
		for _, c := range x.CSCs {
			if strings.Contains(c.Value, ":") {
				return fmt.Errorf("%s: %s: %q: SAL text topics are per CSC, not per index", s.at(c), what, c.Value)
			}
			if err := s.CheckCSC(c, what); err != nil {
				return err
			}
			for _, p := range s.Producers {
				if p.Site.Value == x.Site.Value && slices.ContainsFunc(p.CSCs, func(pc Ref) bool { n, _, _ := strings.Cut(pc.Value, ":"); return n == c.Value }) {
					return fmt.Errorf("%s: %s: producer %q also serves %s at site %q: Kafka treats '.' and '_' in topic names alike, so lsst.sal.%s_<topic> would collide with lsst.sal.%s.<topic>", s.at(c), what, p.Name, c.Value, x.Site.Value, c.Value, c.Value)
				}
			}
		}
	}
	return nil
}

func (s *Stand) CheckCSC(c Ref, what string) error {
	name, _, hasIdx := strings.Cut(c.Value, ":")
	comp := s.Loaded.Component(name)
	if comp == nil {
		return fmt.Errorf("%s: %s: unknown CSC %q (not in the loaded interfaces: %s)", s.at(c), what, name, strings.Join(s.Loaded.Names(), ", "))
	}
	if hasIdx {
		if _, _, err := sal.ParseCSC(c.Value); err != nil {
			return fmt.Errorf("%s: %s: %q: want CSC:N with N > 0", s.at(c), what, c.Value)
		}
		if !comp.Indexed {
			return fmt.Errorf("%s: %s: %q: %s is not indexed", s.at(c), what, c.Value, name)
		}
	}
	return nil
}
