// Package coverage answers, for one or more Sasquatch environments and
// an interface set, where every topic goes: is it produced or mirrored
// at each environment, which Telegraf consumer ingests it there into
// which database, through which registry. It raises flags where the
// layers disagree, the places Sasquatch's incidents came from: a topic
// no consumer ingests, one two consumers of a database both ingest, a
// mirrored prefix nothing reads, a replicated topic read through a
// registry that does not serve its schemas, settings that differ between
// the source and the target environment, a Telegraf kafka_version above
// the brokers', a max_undelivered_messages that is not a multiple of
// metric_batch_size. Diff shows what a values change does to all of it.
//
// Each layer selects topics its own way: a consumer's topic_regexps match
// anywhere in a name (Go), a mirror's topicsPattern the whole name
// (Java, package replication).
package coverage
