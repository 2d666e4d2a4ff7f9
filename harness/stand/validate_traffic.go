package stand

import (
	"fmt"
	"strings"

	"github.com/lsst-ts/teststand/internal/yamlx"
	"github.com/lsst-ts/teststand/mocksal"
)

// checkTraffic checks the background loads by kind, and reads the
// profiles of sal traffic.
func (s *Stand) checkTraffic() error {
	for i, t := range s.Traffic {
		// at is the traffic's key (its entry, where the key is missing).
		at := func(key string) string {
			return fmt.Sprintf("%s: traffic[%d]", s.where(yamlx.Path{"traffic", i, key}), i)
		}
		switch t.Kind {
		case "rest":
			if err := s.checkRestTraffic(t, at); err != nil {
				return err
			}
			continue
		case "protobuf":
			switch {
			case s.Sites[t.Site.Value] == nil:
				return fmt.Errorf("%s: site %q is not a site of the stand (defined: %s)", at("site"), t.Site.Value, strings.Join(s.SiteNames(), ", "))
			case t.Topic == "":
				return fmt.Errorf("%s: no topic given (aliecs.run, say)", at("topic"))
			}
			continue
		case "", "sal":
		default:
			return fmt.Errorf("%s: kind %q: want sal, rest or protobuf", at("kind"), t.Kind)
		}
		if t.Profile == "" {
			return fmt.Errorf("%s: no profile given (a sal traffic writes a profile's rates)", at("profile"))
		}
		p, err := mocksal.LoadProfile(s.ProfilePath(t.Profile))
		if err != nil {
			return fmt.Errorf("%s: %w", at("profile"), err)
		}
		served := false
		for _, pr := range s.Producers {
			served = served || pr.Domain == t.Domain
		}
		if !served {
			return fmt.Errorf("%s: no producer of the stand serves domain %d", at("domain"), t.Domain)
		}
		t.profile = p
	}
	return nil
}

// checkRestTraffic validates a rest traffic: a proxy of the stand, a
// topic it may write with the token given (its rate is checked with the
// stand's other figures). at positions the traffic's keys.
func (s *Stand) checkRestTraffic(t *TrafficSpec, at func(key string) string) error {
	var proxy *RestProxySpec
	for _, r := range s.RestProxies {
		if r.Name == t.Proxy {
			proxy = r
		}
	}
	switch {
	case proxy == nil:
		names := []string{}
		for _, r := range s.RestProxies {
			names = append(names, r.Name)
		}
		return fmt.Errorf("%s: proxy %q is not a REST proxy of the stand (have: %s)", at("proxy"), t.Proxy, strings.Join(names, ", "))
	case t.Topic == "":
		return fmt.Errorf("%s: no topic given (lsst.dm.<metric>)", at("topic"))
	case t.Profile != "":
		return fmt.Errorf("%s: profile is for sal traffic", at("profile"))
	case len(proxy.Tokens) > 0 && proxy.Tokens[t.Token] == nil:
		return fmt.Errorf("%s: token: not one of REST proxy %q's tokens", at("token"), t.Proxy)
	}
	return nil
}
