package replication

import "testing"

func TestDefaultPolicy(t *testing.T) {
	cases := []struct {
		sep, alias, topic, remote, source, upstream string
	}{
		{"", "summit", "lsst.sal.MTM1M3.forceActuatorData", "summit.lsst.sal.MTM1M3.forceActuatorData", "summit", "lsst.sal.MTM1M3.forceActuatorData"},
		{".", "summit", "registry-schemas", "summit.registry-schemas", "summit", "registry-schemas"},
		{"_", "usdf", "lsst.sal.ATDome.position", "usdf_lsst.sal.ATDome.position", "usdf", "lsst.sal.ATDome.position"},
	}
	for _, c := range cases {
		p := DefaultPolicy{Separator: c.sep}
		if got := p.FormatRemoteTopic(c.alias, c.topic); got != c.remote {
			t.Errorf("FormatRemoteTopic(%q, %q) = %q, want %q", c.alias, c.topic, got, c.remote)
		}
		if got := p.TopicSource(c.remote); got != c.source {
			t.Errorf("TopicSource(%q) = %q, want %q", c.remote, got, c.source)
		}
		if got := p.UpstreamTopic(c.remote); got != c.upstream {
			t.Errorf("UpstreamTopic(%q) = %q, want %q", c.remote, got, c.upstream)
		}
	}
	if got := (DefaultPolicy{Separator: "_"}).TopicSource("plain"); got != "" {
		t.Errorf("TopicSource of a local topic = %q, want empty", got)
	}
}

func TestFlowReplicates(t *testing.T) {
	cases := []struct {
		policy, target string
		include        []string
		topic          string
		want           bool
		separator      string
	}{
		{"default", "usdf", []string{`lsst\.sal\..*`, "registry-schemas"}, "lsst.sal.ATDome.position", true, ""},
		{"default", "usdf", []string{`lsst\.sal\..*`, "registry-schemas"}, "registry-schemas", true, ""},
		{"default", "usdf", []string{`lsst\.sal\..*`}, "lsst.dm.metric", false, ""},
		{"default", "usdf", nil, "__consumer_offsets", false, ""},
		{"default", "usdf", nil, "mm2-offsets.summit.internal", false, ""},
		{"default", "usdf", nil, "connect-status-internal", false, ""},
		{"default", "usdf", nil, "x.replica", false, ""},
		{"default", "usdf", nil, ".hidden", false, ""},
		// A↔B: a topic that came from usdf is never sent back to usdf.
		{"default", "usdf", nil, "usdf.lsst.sal.ATDome.position", false, ""},
		{"default", "usdf", nil, "summit.usdf.lsst.sal.ATDome.position", false, ""},
		{"default", "usdf", nil, "base.lsst.sal.ATDome.position", true, ""},
		{"identity", "usdf", nil, "usdf.lsst.sal.ATDome.position", true, ""},
		// Heartbeats are replicated whatever the filter, but never back.
		{"default", "usdf", []string{`lsst\.sal\..*`}, "heartbeats", true, ""},
		{"default", "usdf", []string{`lsst\.sal\..*`}, "base.heartbeats", true, ""},
		{"default", "usdf", []string{`lsst\.sal\..*`}, "usdf.heartbeats", false, ""},
		{"identity", "usdf", []string{`lsst\.sal\..*`}, "heartbeats", true, ""},
		{"identity", "usdf", nil, "usdf.heartbeats", false, ""},
		// MM2 names its internal topics with the separator: with "_" its
		// checkpoints topic ends in "_internal" and is internal too.
		{"default", "usdf", nil, "summit_checkpoints_internal", false, "_"},
		{"default", "usdf", nil, "base_summit_checkpoints_internal", false, "_"},
		{"default", "usdf", nil, "summit_checkpoints_internal", true, ""},
		{"default", "usdf", nil, "lsst.sal.Test.internal_state", true, "_"},
	}
	for _, c := range cases {
		f, err := NewFlow("summit", c.target, c.include, nil, c.policy, c.separator)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Replicates(c.topic); got != c.want {
			t.Errorf("%s policy, include %v: Replicates(%q) = %v, want %v", c.policy, c.include, c.topic, got, c.want)
		}
	}
}

func TestIdentityPolicyRenamesOnlyHeartbeats(t *testing.T) {
	p := IdentityPolicy{}
	cases := []struct{ topic, remote string }{
		{"lsst.sal.ATDome.position", "lsst.sal.ATDome.position"},
		{"registry-schemas", "registry-schemas"},
		{"heartbeats", "summit.heartbeats"},
		{"base.heartbeats", "summit.base.heartbeats"},
	}
	for _, c := range cases {
		if got := p.FormatRemoteTopic("summit", c.topic); got != c.remote {
			t.Errorf("FormatRemoteTopic(summit, %q) = %q, want %q", c.topic, got, c.remote)
		}
	}
}

func TestOriginalTopic(t *testing.T) {
	cases := []struct {
		policy Policy
		topic  string
		want   string
	}{
		// MM2 splits at every separator, so a dotted name's "original" is
		// its last part; only heartbeats detection relies on it.
		{DefaultPolicy{}, "summit.lsst.sal.ATDome.position", "position"},
		{DefaultPolicy{}, "usdf.summit.heartbeats", "heartbeats"},
		{DefaultPolicy{}, "heartbeats", "heartbeats"},
		{DefaultPolicy{Separator: "_"}, "usdf_summit_registry-schemas", "registry-schemas"},
		{IdentityPolicy{}, "lsst.sal.ATDome.position", "lsst.sal.ATDome.position"},
		{IdentityPolicy{}, "summit.heartbeats", "heartbeats"},
	}
	for _, c := range cases {
		if got := OriginalTopic(c.policy, c.topic); got != c.want {
			t.Errorf("OriginalTopic(%T, %q) = %q, want %q", c.policy, c.topic, got, c.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	cases := []Config{
		{TargetAlias: "b", SourceBrokers: []string{"x"}, TargetBrokers: []string{"y"}},
		{SourceAlias: "a", TargetAlias: "b", TargetBrokers: []string{"y"}},
		{SourceAlias: "a", TargetAlias: "b", SourceBrokers: []string{"x"}, TargetBrokers: []string{"y"}, Policy: "mirror"},
		{SourceAlias: "a", TargetAlias: "b", SourceBrokers: []string{"x"}, TargetBrokers: []string{"y"}, Topics: []string{"("}},
	}
	for i, c := range cases {
		if _, err := New(c); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
}

// TestJavaTopicPatterns: MirrorMaker 2's topic patterns are Java regular
// expressions matching the whole name, with the Java syntax deployed
// patterns use (negative lookahead), comma-separated in a list.
func TestJavaTopicPatterns(t *testing.T) {
	cases := []struct {
		patterns string
		topic    string
		want     bool
	}{
		{`lsst\.sal\.(?!MTM1M3|MTMount).*`, "lsst.sal.ATDome.position", true},
		{`lsst\.sal\.(?!MTM1M3|MTMount).*`, "lsst.sal.MTM1M3.forceActuatorData", false},
		{`lsst\.sal\.(?!MTM1M3|MTMount).*`, "lsst.sal.MTMount.azimuth", false},
		{`lsst\.sal\.(?!MTM1M3|MTMount).*`, "lsst.sal.MTM1M3TS.thermalData", false},
		{`registry-schemas, lsst.sal.*, lsst.dm.*`, "lsst.dm.metric", true},
		{`registry-schemas, lsst.sal.*, lsst.dm.*`, "registry-schemas", true},
		{`registry-schemas, lsst.sal.*, lsst.dm.*`, "xregistry-schemas", false},
		// The whole name, not a part of it (unlike Telegraf's topic_regexps).
		{`lsst.sal.Test.*`, "summit.lsst.sal.Test.logevent_heartbeat", false},
		{`lsst\.sal\.MTM1M3(?<!TS)\..*`, "lsst.sal.MTM1M3.x", true},
		// A name ending in a newline is not matched by "$"-style anchoring.
		{`lsst\.sal\..*`, "lsst.sal.X.y\n", false},
	}
	for _, c := range cases {
		f, err := NewFilter(SplitTopicPatterns(c.patterns), nil)
		if err != nil {
			t.Fatalf("%s: %v", c.patterns, err)
		}
		if got := f.Match(c.topic); got != c.want {
			t.Errorf("%s matches %q: %v, want %v", c.patterns, c.topic, got, c.want)
		}
	}
	for _, bad := range []string{`lsst\.sal\.(?!MTM1M3`, `lsst[`, `*x`} {
		if _, err := CompileTopicPattern(bad); err == nil {
			t.Errorf("%q compiled: want an error", bad)
		}
	}
}
