package replication

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lsst-ts/teststand/internal/kafkasec"
	"github.com/twmb/franz-go/pkg/kgo"
)

// MM2Config is a MirrorMaker 2 dedicated-mode configuration
// (connect-mirror-maker.properties): the clusters, their connections, the
// enabled flows and the heartbeat pairs it implies.
type MM2Config struct {
	Clusters []string
	// Brokers and Security are per cluster alias.
	Brokers  map[string][]string
	Security map[string]kafkasec.Config
	// Flows are the enabled "A->B.enabled = true" flows, each with the
	// global settings overridden by its "A->B." ones.
	Flows []Config
	// Heartbeats are the pairs heartbeats are emitted for. As in MM2, a
	// pair gets them even when its flow is disabled (the heartbeats of
	// B->A go into A, and flow A->B carries them to B as "A.heartbeats"),
	// unless emit.heartbeats.enabled is false for it.
	Heartbeats []HeartbeatConfig
	// Ignored lists keys that were accepted but have no effect here
	// (checkpoints, offset syncs, tasks), so a caller can say so.
	Ignored []string
}

// Property is one key = value of a properties source, with its line (0
// when it came from somewhere without lines).
type Property struct {
	Key, Value string
	Line       int
}

// ReadProperties parses Java properties text: "key = value", "key: value"
// or "key value", "#" and "!" comments, and "\" line continuations.
func ReadProperties(r io.Reader) ([]Property, error) {
	var out []Property
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		start := line
		text := strings.TrimSpace(sc.Text())
		for strings.HasSuffix(text, `\`) && !strings.HasSuffix(text, `\\`) {
			text = strings.TrimSuffix(text, `\`)
			if !sc.Scan() {
				break
			}
			line++
			text += strings.TrimSpace(sc.Text())
		}
		if text == "" || text[0] == '#' || text[0] == '!' {
			continue
		}
		i := keyEnd(text)
		key := text[:i]
		val := strings.TrimLeft(text[i:], " \t")
		if val != "" && (val[0] == '=' || val[0] == ':') {
			val = val[1:]
		}
		out = append(out, Property{Key: unescape(key), Value: unescape(strings.TrimSpace(val)), Line: start})
	}
	return out, sc.Err()
}

// keyEnd is where a properties line's key ends: at the first separator
// ('=', ':' or blank) not escaped with a backslash.
func keyEnd(text string) int {
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '\\':
			i++
		case '=', ':', ' ', '\t':
			return i
		}
	}
	return len(text)
}

// unescape applies Java properties escapes: \t \n \r \f, \uXXXX, and
// a backslash before any other character stands for that character (so a
// regex dot is written "\\." in a properties file, as for MM2).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+4 < len(s) {
				if r, err := strconv.ParseUint(s[i+1:i+5], 16, 32); err == nil {
					b.WriteRune(rune(r))
					i += 4
					continue
				}
			}
			b.WriteByte('u')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// flowKeys are the keys a flow takes, globally or after "A->B.".
var flowKeys = map[string]bool{
	"enabled": true, "topics": true, "topics.exclude": true, "topics.blacklist": true,
	"replication.policy.class": true, "replication.policy.separator": true,
	"refresh.topics.enabled": true, "refresh.topics.interval.seconds": true,
	"sync.topic.configs.enabled": true, "sync.topic.configs.interval.seconds": true,
	"emit.heartbeats.enabled": true, "emit.heartbeats.interval.seconds": true,
}

// ignoredKeys are MM2 keys accepted without effect: checkpoints and
// offset syncs are not emitted (Sasquatch does not use them), ACLs are
// not synced, and tasks, replication factors and Connect internals have
// no meaning here.
var ignoredKeys = regexp.MustCompile(`^(emit\.checkpoints\..*|sync\.group\.offsets\..*|offset-syncs\..*|checkpoints\..*|sync\.topic\.acls\..*|` +
	`heartbeats\.topic\.replication\.factor|replication\.factor|tasks\.max|refresh\.groups\..*|groups(\.exclude)?|` +
	`(offset|config|status)\.storage\..*|key\.converter.*|value\.converter.*|header\.converter.*|dedicated\.mode\..*)$`)

// clientKeys are per-cluster client settings ("summit.security.protocol").
var clientKeys = regexp.MustCompile(`^(bootstrap\.servers|security\.protocol|sasl\.mechanism|sasl\.jaas\.config|ssl\.truststore\.location|ssl\.truststore\.type|` +
	`(producer|consumer|admin)\..*|client\.id|request\.timeout\.ms)$`)

var jaas = regexp.MustCompile(`(username|password)\s*=\s*"([^"]*)"`)

// ParseMM2 reads an MM2 properties file; errors name the file and line.
func ParseMM2(path string) (*MM2Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	props, err := ReadProperties(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return NewMM2Config(path, props, nil)
}

// NewMM2Config builds the configuration from properties; where names the
// source in errors. brokers, when set, supplies bootstrap servers for
// clusters whose properties have none (a stand knows its own clusters).
func NewMM2Config(where string, props []Property, brokers map[string][]string) (*MM2Config, error) {
	at := func(p Property) string {
		if p.Line > 0 {
			return fmt.Sprintf("%s:%d", where, p.Line)
		}
		return where
	}
	byKey := map[string]Property{}
	var clustersProp *Property
	for i, p := range props {
		byKey[p.Key] = p
		if p.Key == "clusters" {
			clustersProp = &props[i]
		}
	}
	if clustersProp == nil {
		return nil, fmt.Errorf("%s: no \"clusters\" key (e.g. clusters = summit, usdf)", where)
	}
	cfg := &MM2Config{Brokers: map[string][]string{}, Security: map[string]kafkasec.Config{}}
	for _, c := range strings.Split(clustersProp.Value, ",") {
		if c = strings.TrimSpace(c); c != "" {
			if strings.ContainsAny(c, ". >") {
				return nil, fmt.Errorf("%s: cluster alias %q: must not contain '.', ' ' or '>'", at(*clustersProp), c)
			}
			cfg.Clusters = append(cfg.Clusters, c)
		}
	}
	if len(cfg.Clusters) < 2 {
		return nil, fmt.Errorf("%s: clusters %q: want at least two aliases", at(*clustersProp), clustersProp.Value)
	}
	isCluster := func(a string) bool { return slices.Contains(cfg.Clusters, a) }
	// Check every key before acting on any.
	for _, p := range props {
		k := p.Key
		switch {
		case k == "clusters" || flowKeys[k] || ignoredKeys.MatchString(k):
			if ignoredKeys.MatchString(k) {
				cfg.Ignored = append(cfg.Ignored, k)
			}
		case strings.Contains(k, "->"):
			pair, rest, ok := strings.Cut(k, ".")
			src, dst, _ := strings.Cut(pair, "->")
			if !ok || !isCluster(src) || !isCluster(dst) || src == dst {
				return nil, fmt.Errorf("%s: %s: flow %q is not two of the clusters %s", at(p), k, pair, strings.Join(cfg.Clusters, ", "))
			}
			if !flowKeys[rest] && !ignoredKeys.MatchString(rest) {
				return nil, fmt.Errorf("%s: %s: unknown flow setting %q", at(p), k, rest)
			}
		default:
			alias, rest, _ := strings.Cut(k, ".")
			if !isCluster(alias) {
				return nil, fmt.Errorf("%s: unknown key %q", at(p), k)
			}
			if !clientKeys.MatchString(rest) {
				return nil, fmt.Errorf("%s: %s: unknown cluster setting %q", at(p), k, rest)
			}
		}
	}
	for _, c := range cfg.Clusters {
		if p, ok := byKey[c+".bootstrap.servers"]; ok {
			for _, b := range strings.Split(p.Value, ",") {
				if b = strings.TrimSpace(b); b != "" {
					cfg.Brokers[c] = append(cfg.Brokers[c], b)
				}
			}
		} else if brokers[c] != nil {
			cfg.Brokers[c] = brokers[c]
		}
		sec := kafkasec.Config{Protocol: byKey[c+".security.protocol"].Value, Mechanism: byKey[c+".sasl.mechanism"].Value, CAFile: byKey[c+".ssl.truststore.location"].Value}
		if p, ok := byKey[c+".sasl.jaas.config"]; ok {
			for _, m := range jaas.FindAllStringSubmatch(p.Value, -1) {
				if m[1] == "username" {
					sec.Username = m[2]
				} else {
					sec.Password = m[2]
				}
			}
		}
		cfg.Security[c] = sec
	}
	for _, src := range cfg.Clusters {
		for _, dst := range cfg.Clusters {
			if src == dst {
				continue
			}
			prefix := src + "->" + dst + "."
			get := func(key, def string) Property {
				if p, ok := byKey[prefix+key]; ok {
					return p
				}
				if p, ok := byKey[key]; ok {
					return p
				}
				return Property{Key: key, Value: def}
			}
			boolean := func(key string, def bool) (bool, error) {
				p := get(key, strconv.FormatBool(def))
				v, err := strconv.ParseBool(p.Value)
				if err != nil {
					return false, fmt.Errorf("%s: %s: %q is not true or false", at(p), p.Key, p.Value)
				}
				return v, nil
			}
			seconds := func(key string, def float64) (time.Duration, error) {
				p := get(key, strconv.FormatFloat(def, 'f', -1, 64))
				v, err := strconv.ParseFloat(p.Value, 64)
				if err != nil || v <= 0 {
					return 0, fmt.Errorf("%s: %s: %q is not a positive number of seconds", at(p), p.Key, p.Value)
				}
				return time.Duration(v * float64(time.Second)), nil
			}
			enabled, err := boolean("enabled", false)
			if err != nil {
				return nil, err
			}
			beats, err := boolean("emit.heartbeats.enabled", true)
			if err != nil {
				return nil, err
			}
			beatEvery, err := seconds("emit.heartbeats.interval.seconds", 1)
			if err != nil {
				return nil, err
			}
			if !enabled && !beats {
				continue
			}
			if len(cfg.Brokers[src]) == 0 || len(cfg.Brokers[dst]) == 0 {
				for _, a := range []string{src, dst} {
					if len(cfg.Brokers[a]) == 0 {
						return nil, fmt.Errorf("%s: no %s.bootstrap.servers for cluster %q of flow %s->%s", where, a, a, src, dst)
					}
				}
			}
			if beats {
				cfg.Heartbeats = append(cfg.Heartbeats, HeartbeatConfig{SourceAlias: src, TargetAlias: dst, TargetBrokers: cfg.Brokers[dst], Interval: beatEvery})
			}
			if !enabled {
				continue
			}
			fc := Config{SourceAlias: src, TargetAlias: dst, SourceBrokers: cfg.Brokers[src], TargetBrokers: cfg.Brokers[dst]}
			fc.Topics = list(get("topics", ".*").Value)
			ex := get("topics.exclude", "")
			if ex.Line == 0 && ex.Value == "" {
				ex = get("topics.blacklist", "")
			}
			if ex.Line > 0 || ex.Value != "" {
				fc.TopicsExclude = list(ex.Value)
				if fc.TopicsExclude == nil {
					fc.TopicsExclude = []string{}
				}
			}
			pol := get("replication.policy.class", "")
			switch pol.Value {
			case "", "org.apache.kafka.connect.mirror.DefaultReplicationPolicy", "DefaultReplicationPolicy":
				fc.Policy = "default"
			case "org.apache.kafka.connect.mirror.IdentityReplicationPolicy", "IdentityReplicationPolicy":
				fc.Policy = "identity"
			default:
				return nil, fmt.Errorf("%s: replication.policy.class %q: want DefaultReplicationPolicy or IdentityReplicationPolicy", at(pol), pol.Value)
			}
			fc.Separator = get("replication.policy.separator", ".").Value
			if fc.RefreshInterval, err = seconds("refresh.topics.interval.seconds", 600); err != nil {
				return nil, err
			}
			refresh, err := boolean("refresh.topics.enabled", true)
			if err != nil {
				return nil, err
			}
			if !refresh {
				fc.RefreshInterval = 100 * 365 * 24 * time.Hour
			}
			if fc.SyncConfigsInterval, err = seconds("sync.topic.configs.interval.seconds", 600); err != nil {
				return nil, err
			}
			syncCfg, err := boolean("sync.topic.configs.enabled", true)
			if err != nil {
				return nil, err
			}
			if !syncCfg {
				fc.SyncConfigsInterval = -1
			}
			if _, err := NewFlow(src, dst, fc.Topics, fc.TopicsExclude, fc.Policy, fc.Separator); err != nil {
				p := get("topics", "")
				return nil, fmt.Errorf("%s: flow %s->%s: %w", at(p), src, dst, err)
			}
			cfg.Flows = append(cfg.Flows, fc)
		}
	}
	if len(cfg.Flows) == 0 {
		return nil, fmt.Errorf("%s: no flow is enabled (e.g. %s->%s.enabled = true)", where, cfg.Clusters[0], cfg.Clusters[1])
	}
	sort.Slice(cfg.Heartbeats, func(i, j int) bool {
		a, b := cfg.Heartbeats[i], cfg.Heartbeats[j]
		return a.SourceAlias+">"+a.TargetAlias < b.SourceAlias+">"+b.TargetAlias
	})
	return cfg, nil
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// RunMM2 runs every flow and heartbeat pair of cfg until ctx ends, with
// one metrics registry for all (cfg's flows' Metrics are set to m). A flow
// that stops with an error stops the others.
func RunMM2(ctx context.Context, cfg *MM2Config, m *Metrics, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	for _, k := range cfg.Ignored {
		log.Info("mirror: setting has no effect here", "key", k)
	}
	opts := map[string][]kgo.Opt{}
	for alias, sec := range cfg.Security {
		o, err := sec.Opts()
		if err != nil {
			return fmt.Errorf("cluster %s: %w", alias, err)
		}
		opts[alias] = o
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(cfg.Flows)+len(cfg.Heartbeats))
	for _, fc := range cfg.Flows {
		fc.Metrics, fc.Logger = m, log
		fc.SourceOpts = append(fc.SourceOpts, opts[fc.SourceAlias]...)
		fc.TargetOpts = append(fc.TargetOpts, opts[fc.TargetAlias]...)
		r, err := New(fc)
		if err != nil {
			return err
		}
		wg.Go(func() {
			if err := r.Run(ctx); err != nil {
				errs <- fmt.Errorf("flow %s->%s: %w", fc.SourceAlias, fc.TargetAlias, err)
				cancel()
			}
		})
	}
	for _, hc := range cfg.Heartbeats {
		hc.Metrics, hc.Logger = m, log
		hc.Opts = append(hc.Opts, opts[hc.TargetAlias]...)
		wg.Go(func() {
			if err := EmitHeartbeats(ctx, hc); err != nil {
				errs <- err
				cancel()
			}
		})
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}
