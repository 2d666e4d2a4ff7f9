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

func TestReplicable(t *testing.T) {
	cases := []struct {
		policy, target string
		include        []string
		topic          string
		want           bool
	}{
		{"default", "usdf", []string{`lsst\.sal\..*`, "registry-schemas"}, "lsst.sal.ATDome.position", true},
		{"default", "usdf", []string{`lsst\.sal\..*`, "registry-schemas"}, "registry-schemas", true},
		{"default", "usdf", []string{`lsst\.sal\..*`}, "lsst.dm.metric", false},
		{"default", "usdf", nil, "__consumer_offsets", false},
		{"default", "usdf", nil, "mm2-offsets.summit.internal", false},
		{"default", "usdf", nil, "connect-status-internal", false},
		{"default", "usdf", nil, "x.replica", false},
		{"default", "usdf", nil, ".hidden", false},
		// A↔B: a topic that came from usdf is never sent back to usdf.
		{"default", "usdf", nil, "usdf.lsst.sal.ATDome.position", false},
		{"default", "usdf", nil, "summit.usdf.lsst.sal.ATDome.position", false},
		{"default", "usdf", nil, "base.lsst.sal.ATDome.position", true},
		{"identity", "usdf", nil, "usdf.lsst.sal.ATDome.position", true},
	}
	for _, c := range cases {
		r, err := New(Config{SourceAlias: "summit", TargetAlias: c.target, SourceBrokers: []string{"127.0.0.1:1"}, TargetBrokers: []string{"127.0.0.1:2"}, Topics: c.include, Policy: c.policy})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Replicable(c.topic); got != c.want {
			t.Errorf("%s policy, include %v: Replicable(%q) = %v, want %v", c.policy, c.include, c.topic, got, c.want)
		}
		r.src.Close()
		r.dst.Close()
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
