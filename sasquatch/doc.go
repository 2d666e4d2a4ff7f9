// Package sasquatch reads Sasquatch as Rubin deploys it: Phalanx's Helm
// chart with an environment's values files, rendered offline with Helm's
// Go SDK (Render), or manifests rendered already, or a single
// telegraf.conf, or a Strimzi KafkaMirrorMaker2 YAML. From them it builds
// a Deployment: the broker settings of the Kafka CR, the KafkaTopics and
// KafkaUsers, the schema registries (the local one and the remote one on
// a replicated registry topic), every Telegraf Kafka consumer with its
// options, and MirrorMaker 2's mirrors.
//
// Each layer keeps its own semantics: a consumer's topic_regexps are Go
// regular expressions matched anywhere in a topic's name, MirrorMaker 2's
// topicsPattern a comma-separated list of Java regular expressions that
// must match the whole name (package replication compiles them). Every
// Telegraf option a consumer sets is either mapped onto the project's
// sink or named as one it does not honour (Consumer.Unsupported); none is
// dropped silently.
//
// Errors name the file (the values file, the rendered document or the
// ConfigMap) and, where there is one, the line.
package sasquatch
