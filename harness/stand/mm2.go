package stand

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
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
