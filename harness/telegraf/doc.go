// Package telegraf configures and finds real Telegraf, the EFD's sink in
// production, so that stands and conformance tests can run it beside the
// project's sink: a kafka_consumer with the avro parser per input, and
// one influxdb output routing by database, as Sasquatch configures it
// (influxdb_v2 routing by bucket for InfluxDB 2.x).
//
// Telegraf's avro parser has one avro_schema_registry per input, and a
// site of Sasquatch's remote context needs two: the remote registry for
// the replicated topics (whose schema ids are the source registry's) and
// the local one for local topics. Each sink rule is its own
// [[inputs.kafka_consumer]] with its own registry (Input.Registry), so
// rules on different registries never share a parser.
//
// All inputs of a Config share one consumer group, Config.Group: a
// stand's sink is one consumer, as each of Sasquatch's kafkaConsumers
// entries is (group telegraf-kafka-consumer-<key>), with its offsets and
// lag in one group. That is sound because every balance strategy of
// Sarama (Telegraf's Kafka client; range by default, roundrobin,
// sticky) plans each topic among the members subscribed to it, and the
// group leader fetches the partitions of every member's topics: two
// inputs with disjoint topics in one group each get all of their own
// (TestTwoRegistriesOneGroup checks it against real Telegraf). What one
// group cannot do is give a topic to two inputs: unlike the sink, whose
// first matching rule takes a topic, a topic that two inputs select
// goes to one of them at random (Sarama's member ids are random), with
// that input's registry and database; in groups of their own both
// would read it. So inputs must not overlap: Check says where they do.
// The price of one group is that an input joining or leaving pauses the
// others while the group rebalances, as a restarted Telegraf pod does.
package telegraf
