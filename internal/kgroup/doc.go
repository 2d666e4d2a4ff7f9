// Package kgroup holds the consumer-group settings of the components that
// deliver at least once (the replicator, the sink): a record's offset is
// marked only once what it became was acknowledged downstream, marks are
// committed in the background, and what was marked is committed when
// partitions are taken away or the client closes.
package kgroup
