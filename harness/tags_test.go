package harness

import "testing"

// TestStandTags checks which scenarios a stand's run leaves out.
func TestStandTags(t *testing.T) {
	embedded := &Stand{Backend: "embedded"}
	process := &Stand{Backend: "process"}
	mm2 := &Stand{Backend: "process", Replication: []*FlowSpec{{Run: "mirrormaker2"}}}
	ctr := &Stand{Backend: "containers"}
	cases := []struct {
		tags  string
		stand *Stand
		want  string
	}{
		{"", embedded, "~@containers"},
		{"@smoke", embedded, "@smoke && ~@containers"},
		{"", process, "~@containers && ~@embedded"},
		{"@a,@b", process, "@a,@b && ~@containers && ~@embedded"},
		{"", mm2, "~@containers && ~@embedded && ~@own-replicator"},
		{"", ctr, "~@broker-faults && ~@embedded && ~@network-faults"},
	}
	for _, c := range cases {
		if got := standTags(c.tags, c.stand); got != c.want {
			t.Errorf("standTags(%q, %s) = %q, want %q", c.tags, c.stand.Backend, got, c.want)
		}
	}
}
