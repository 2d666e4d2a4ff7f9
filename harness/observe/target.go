package observe

import "fmt"

// Kind is the kind of place a target is.
type Kind string

const (
	// KafkaTopic is a topic at a site's Kafka.
	KafkaTopic Kind = "kafka"
	// InfluxDB is a database (bucket) of a site's InfluxDB.
	InfluxDB Kind = "influxdb"
)

// Target is a place samples are observed at: a topic of a site's Kafka,
// or a database of a site's InfluxDB (its measurement is the topic's).
type Target struct {
	Kind Kind
	Site string
	// Name is the topic or the database, as the stand names it.
	Name string
}

// Kafka is topic at site's Kafka.
func Kafka(site, topic string) Target { return Target{Kind: KafkaTopic, Site: site, Name: topic} }

// Influx is database db of site's InfluxDB.
func Influx(site, db string) Target { return Target{Kind: InfluxDB, Site: site, Name: db} }

// String is the target as reports name it: "kafka@usdf/<topic>",
// "influxdb@usdf/efd".
func (t Target) String() string { return fmt.Sprintf("%s@%s/%s", t.Kind, t.Site, t.Name) }

// Hop names the hop that ends at the target: "→kafka@summit".
func (t Target) Hop() string { return "→" + string(t.Kind) + "@" + t.Site }
