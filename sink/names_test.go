package sink

import "testing"

// TestSchemaBelongs is the rule a record's schema name is checked by,
// case by case: the topic (with its replication separator), the schema's
// full name, and what SchemaBelongs must answer.
func TestSchemaBelongs(t *testing.T) {
	const pos = "lsst.sal.ATDome.position"
	cases := []struct {
		name, topic, sep, schema string
		implied                  string
		ok                       bool
	}{
		{"SAL", pos, "", pos, pos, true},
		{"camera topic from Avro", "lsst.sal.ATCamera.ats", "", "lsst.sal.ATCamera.ats", "lsst.sal.ATCamera.ats", true},
		{"SAL, another topic's schema", pos, "", "lsst.sal.ATDome.logevent_emergencyStop", pos, false},
		{"SAL, another CSC's schema", pos, "", "lsst.sal.MTDome.position", pos, false},
		{"SAL, the Kafka-era namespace ts_xml dropped", pos, "", "lsst.sal.kafka_ATDome.position", pos, false},
		{"SAL, a non-SAL schema", pos, "", "lsst.dm.psfSize", pos, false},
		{"SAL text transform output", "lsst.sal.ATDome_position", "", pos, "lsst.sal.ATDome_position", true},
		{"SAL text transform output, another topic's schema", "lsst.sal.ATDome_position", "", "lsst.sal.ATDome.logevent_emergencyStop", "lsst.sal.ATDome_position", false},
		{"SAL text transform output, another CSC's", "lsst.sal.ATDome_position", "", "lsst.sal.MTDome.position", "lsst.sal.ATDome_position", false},
		{"SAL text transform output of an event, replicated", "summit.lsst.sal.ATDome_logevent_heartbeat", "", "lsst.sal.ATDome.logevent_heartbeat", "lsst.sal.ATDome_logevent_heartbeat", true},
		{"under lsst.sal, five parts", "lsst.sal.ATDome.position.x", "", pos, "lsst.sal.ATDome.position.x", false},
		{"subname: the namespace stays lsst.sal", "lsst.test.ATDome.position", "", pos, pos, true},
		{"subname, another topic's schema", "lsst.test.ATDome.position", "", "lsst.sal.ATDome.logevent_heartbeat", pos, false},
		{"subname, another CSC's schema", "lsst.test.ATDome.position", "", "lsst.sal.MTMount.position", pos, false},
		// Names cannot tell lsst.test.ATDome.position from a non-SAL
		// topic such as lsst.dm.rubin.visit: a non-SAL schema passes.
		{"subname, a non-SAL schema", "lsst.test.ATDome.position", "", "lsst.dm.rubin.visit", "lsst.test.ATDome.position", true},
		{"replica, alias and '.'", "summit." + pos, "", pos, pos, true},
		{"replica, alias and '.' given", "summit." + pos, ".", pos, pos, true},
		{"replica of a subname", "summit.lsst.test.ATDome.position", "", pos, pos, true},
		{"replica, another topic's schema (the incident)", "usdf.lsst.sal.Test.scalars", "", "lsst.sal.ATDome.logevent_emergencyStop", "lsst.sal.Test.scalars", false},
		{"replica, alias and '_'", "summit_" + pos, "_", pos, pos, true},
		{"replica, alias with '_' in it and '.'", "summit_2." + pos, ".", pos, pos, true},
		{"replica, '_' read with '.': no alias found", "summit_" + pos, ".", pos, "summit_" + pos, false},
		{"replica, a separator of two characters", "summit::" + pos, "::", pos, pos, true},
		{"chain summit → base → usdf", "base.summit." + pos, "", pos, pos, true},
		{"chain with '_'", "base_summit_" + pos, "_", pos, pos, true},
		{"chain, another topic's schema", "base.summit." + pos, "", "lsst.sal.ATDome.logevent_emergencyStop", pos, false},
		{"dm", "lsst.dm.photometricRepeatability", "", "lsst.dm.photometricRepeatability", "lsst.dm.photometricRepeatability", true},
		{"dm replica", "usdf.lsst.dm.psfSize", "", "lsst.dm.psfSize", "lsst.dm.psfSize", true},
		{"dm, four parts", "lsst.dm.rubin.visit", "", "lsst.dm.rubin.visit", "lsst.dm.rubin.visit", true},
		{"dm, a record named otherwise (legitimate)", "lsst.dm.psfSize", "", "lsst.dm.seeing", "lsst.dm.psfSize", true},
		{"dm, a SAL schema", "lsst.dm.psfSize", "", pos, "lsst.dm.psfSize", false},
		{"dm replica, a SAL schema", "summit.lsst.dm.psfSize", "", pos, "lsst.dm.psfSize", false},
		{"dm of four parts, a SAL schema", "lsst.dm.rubin.visit", "", pos, "lsst.sal.rubin.visit", false},
		{"another convention", "heartbeats", "", "heartbeat", "heartbeats", true},
		{"another convention, a SAL schema", "summit.heartbeats", "", pos, "summit.heartbeats", false},
		{"an empty alias is no alias", "." + pos, "", pos, "." + pos, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			implied, ok := SchemaBelongs(c.topic, c.sep, c.schema)
			if implied != c.implied || ok != c.ok {
				t.Errorf("SchemaBelongs(%q, %q, %q) = %q, %v; want %q, %v", c.topic, c.sep, c.schema, implied, ok, c.implied, c.ok)
			}
		})
	}
}
