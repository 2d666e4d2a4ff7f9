package sink

import "strings"

// BaseTopic is topic without its replication prefixes: MirrorMaker 2's
// DefaultReplicationPolicy names a replica <alias><sep><topic>, and a
// chain summit → base → usdf gives base.summit.lsst.sal.X.y, so leading
// <alias><sep> are cut (any number of them) until what is left starts
// with "lsst.", where every Sasquatch topic name starts. sep "" means
// ".". A topic that never gets there (heartbeats, a name of another
// convention, a replica renamed with another separator) is returned
// whole. An alias is a site's name and is never "lsst" itself.
func BaseTopic(topic, sep string) string {
	if sep == "" {
		sep = "."
	}
	rest := topic
	for !strings.HasPrefix(rest, "lsst.") {
		i := strings.Index(rest, sep)
		if i <= 0 { // no separator left, or an empty alias: not a replica name
			return topic
		}
		rest = rest[i+len(sep):]
	}
	return rest
}

// SchemaBelongs reports whether a record whose Avro schema has the full
// name schema ("namespace.name") may come from topic, and which name the
// topic implies. It is how the sink notices that a schema id was resolved
// in another registry than the one it was registered in (ids are per
// registry: through the wrong one, the id names some other topic's
// schema, and a record decoded with it is at best garbage and at worst a
// plausible point of another measurement). sep is the replication
// separator the topic's replicas were named with ("" means ".").
//
// With base = BaseTopic(topic, sep) the rule is:
//
//   - base under "lsst.sal." is a SAL topic of the default subname,
//     lsst.sal.<CSC>.<sal_name>: the schema must be exactly base (or,
//     for the SAL text transform's lsst.sal.<CSC>_<sal_name>, the
//     topic's lsst.sal.<CSC>.<sal_name>).
//   - base of the form lsst.<subname>.<CSC>.<sal_name> (four dotted
//     parts) with a SAL schema (under "lsst.sal."): ts_xml fixes the
//     namespace lsst.sal.<CSC> whatever the subname, so the schema must
//     be lsst.sal.<CSC>.<sal_name>.
//   - any other base with a SAL schema: refused, a SAL schema belongs to
//     its CSC's topic only.
//   - any other base with a non-SAL schema: accepted. Non-SAL producers
//     (the REST proxy's lsst.dm.<metric>, lsst.backpack, ...) name their
//     schemas as they like: the registry's topic name strategy ties a
//     subject to its topic, not a record's name, so requiring
//     namespace.name == topic would refuse legitimate data. This is also
//     why a non-SAL schema on lsst.<subname>.<CSC>.<sal_name> with a
//     subname other than "sal" passes: lsst.dm.rubin.visit may as well
//     be a non-SAL topic.
//
// A non-SAL schema on a SAL topic of another subname is therefore not
// caught by names; a record decoded with the wrong schema almost always
// fails to decode or leaves bytes over, which the sink also refuses.
func SchemaBelongs(topic, sep, schema string) (implied string, ok bool) {
	base := BaseTopic(topic, sep)
	salSchema := strings.HasPrefix(schema, "lsst.sal.")
	if strings.HasPrefix(base, "lsst.sal.") {
		// kafkaefd's SAL text transform writes lsst.sal.<CSC>_<sal_name>
		// with the topic's own schema, lsst.sal.<CSC>.<sal_name>.
		i := strings.LastIndex(schema, ".")
		return base, schema == base || (i > 0 && schema[:i]+"_"+schema[i+1:] == base)
	}
	if parts := strings.Split(base, "."); salSchema && len(parts) == 4 && parts[0] == "lsst" {
		implied = "lsst.sal." + parts[2] + "." + parts[3]
		return implied, schema == implied
	}
	return base, !salSchema
}
