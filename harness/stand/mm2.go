package stand

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/replication"
)

// MM2Flows are the stand's flows run by MirrorMaker 2.
func (s *Stand) MM2Flows() []*FlowSpec {
	var out []*FlowSpec
	for _, f := range s.Replication {
		if f.Run == MirrorMaker2 {
			out = append(out, f)
		}
	}
	return out
}

// MM2Link is the site from which MirrorMaker 2 reads site's Kafka across
// the link between them: the target of the first mirrormaker2 flow out of
// site, "" if none. One MirrorMaker 2 has one bootstrap per cluster, so
// every flow of it out of site reads over that one link.
func (s *Stand) MM2Link(site string) string {
	for _, f := range s.MM2Flows() {
		if f.Source.Value == site {
			return f.Target.Value
		}
	}
	return ""
}

// MirrorMakerProperties is the connect-mirror-maker.properties that runs
// the stand's mirrormaker2 flows: the flows' own keys (topics, excludes,
// policy, separator, intervals) per flow, the sites' bootstrap servers,
// and the settings a test cluster needs (replication factor 1 for MM2's
// internal topics, no ACL syncing: the brokers have no authorizer).
// Checkpoints stay on, as MM2's default: turned off, MM2 logs an error
// for the checkpoint connector it still tries to configure. MM2 counts its intervals in whole seconds, so
// a flow's sub-second refresh becomes one second.
func (s *Stand) MirrorMakerProperties(brokers map[string][]string) string {
	flows := s.MM2Flows()
	var clusters []string
	for _, f := range flows {
		for _, c := range []string{f.Source.Value, f.Target.Value} {
			if !slices.Contains(clusters, c) {
				clusters = append(clusters, c)
			}
		}
	}
	slices.Sort(clusters)
	var b strings.Builder
	fmt.Fprintf(&b, "clusters = %s\n", strings.Join(clusters, ", "))
	for _, c := range clusters {
		fmt.Fprintf(&b, "%s.bootstrap.servers = %s\n", c, strings.Join(brokers[c], ","))
	}
	secs := func(d time.Duration) int64 { return max(1, int64(math.Ceil(d.Seconds()))) }
	for _, f := range flows {
		pair := f.Source.Value + "->" + f.Target.Value
		fmt.Fprintf(&b, "%s.enabled = true\n", pair)
		if len(f.Topics) > 0 {
			fmt.Fprintf(&b, "%s.topics = %s\n", pair, propertyValue(strings.Join(f.Topics, ", ")))
		}
		if len(f.Exclude) > 0 {
			fmt.Fprintf(&b, "%s.topics.exclude = %s\n", pair, propertyValue(strings.Join(f.Exclude, ", ")))
		}
		policy := "DefaultReplicationPolicy"
		if strings.Contains(strings.ToLower(f.Policy), "identity") {
			policy = "IdentityReplicationPolicy"
		}
		fmt.Fprintf(&b, "%s.replication.policy.class = org.apache.kafka.connect.mirror.%s\n", pair, policy)
		if f.Separator != "" {
			fmt.Fprintf(&b, "%s.replication.policy.separator = %s\n", pair, propertyValue(f.Separator))
		}
		fmt.Fprintf(&b, "%s.refresh.topics.interval.seconds = %d\n", pair, secs(f.Refresh.Duration))
		if f.SyncConfigs.Duration > 0 {
			fmt.Fprintf(&b, "%s.sync.topic.configs.interval.seconds = %d\n", pair, secs(f.SyncConfigs.Duration))
		}
		switch {
		case f.Heartbeats == nil:
			fmt.Fprintf(&b, "%s.emit.heartbeats.interval.seconds = 1\n", pair)
		case f.Heartbeats.Duration <= 0:
			fmt.Fprintf(&b, "%s.emit.heartbeats.enabled = false\n", pair)
		default:
			fmt.Fprintf(&b, "%s.emit.heartbeats.interval.seconds = %d\n", pair, secs(f.Heartbeats.Duration))
		}
		rf := max(s.Sites[f.Target.Value].Kafka.ReplicationFactor, 1)
		fmt.Fprintf(&b, "%s.replication.factor = %d\n", pair, rf)
	}
	b.WriteString(`checkpoints.topic.replication.factor = 1
heartbeats.topic.replication.factor = 1
offset-syncs.topic.replication.factor = 1
offset.storage.replication.factor = 1
status.storage.replication.factor = 1
config.storage.replication.factor = 1
sync.topic.acls.enabled = false
`)
	return b.String()
}

// propertyValue escapes a Java properties value (backslashes, as in topic
// regular expressions, would otherwise be read as escapes).
func propertyValue(v string) string { return strings.ReplaceAll(v, `\`, `\\`) }

// connectionKey matches an MM2 file's per-cluster connection settings,
// which a stand replaces with its sites.
var connectionKey = regexp.MustCompile(`^[^.>-]+\.(bootstrap\.servers|security\.protocol|sasl\..*|ssl\..*)$`)

// mirrorMakerFlows turns the mirrormaker block into flows and heartbeat
// pairs with the same parser cmd/mirror uses for a properties file.
func (s *Stand) mirrorMakerFlows(file string) error {
	pos, where := s.pos, s.File
	if file != "" { // lines of a properties file
		pos = func(line int) string { return fmt.Sprintf("%s:%d", file, line) }
		where = file
	}
	if len(s.Replication) > 0 {
		return fmt.Errorf("%s: replication and mirrormaker exclude each other: write the flows one way", pos(s.MirrorMaker[0].Line))
	}
	props := append(MM2Block(nil), s.MirrorMaker...)
	has := map[string]bool{}
	for _, p := range props {
		has[p.Key] = true
		if strings.HasSuffix(p.Key, ".bootstrap.servers") {
			return fmt.Errorf("%s: mirrormaker: %s: a stand's clusters are its sites; leave bootstrap servers out", pos(p.Line), p.Key)
		}
	}
	if !has["clusters"] {
		props = append(props, replication.Property{Key: "clusters", Value: strings.Join(s.SiteNames(), ", ")})
	}
	if !has["refresh.topics.interval.seconds"] {
		props = append(props, replication.Property{Key: "refresh.topics.interval.seconds", Value: "0.5"})
	}
	for _, p := range props {
		if p.Key != "clusters" {
			continue
		}
		for _, c := range strings.Split(p.Value, ",") {
			if c = strings.TrimSpace(c); c != "" && s.Sites[c] == nil {
				return fmt.Errorf("%s: mirrormaker: cluster %q is not a site (have %s)", pos(p.Line), c, strings.Join(s.SiteNames(), ", "))
			}
		}
	}
	brokers := map[string][]string{}
	for _, name := range s.SiteNames() {
		brokers[name] = []string{"stand"} // the stand's own clusters, known once up
	}
	cfg, err := replication.NewMM2Config(where, props, brokers)
	if err != nil {
		return err
	}
	line := func(key string) int {
		for _, p := range props {
			if p.Key == key {
				return p.Line
			}
		}
		return s.MirrorMaker[0].Line
	}
	for _, f := range cfg.Flows {
		l := line(f.SourceAlias + "->" + f.TargetAlias + ".enabled")
		if file != "" {
			l = 0 // a line of the properties file, not of the stand
		}
		s.Replication = append(s.Replication, &FlowSpec{
			Source: Ref{Value: f.SourceAlias, Line: l}, Target: Ref{Value: f.TargetAlias, Line: l},
			Policy: f.Policy, Separator: f.Separator, Topics: f.Topics, Exclude: f.TopicsExclude,
			Refresh: Duration{f.RefreshInterval}, SyncConfigs: Duration{f.SyncConfigsInterval},
		})
	}
	for _, h := range cfg.Heartbeats {
		s.Heartbeats = append(s.Heartbeats, HeartbeatSpec{Source: h.SourceAlias, Target: h.TargetAlias, Interval: h.Interval})
	}
	return nil
}
