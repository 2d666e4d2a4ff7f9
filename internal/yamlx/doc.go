// Package yamlx decodes the project's YAML files strictly (an unknown key
// is an error) and words yaml.v3's errors as "file:line[:column]: message",
// the form every input error of the project takes; an error about a value
// names its key path ("sites.summit.kafka.brokers: want an integer, got
// \"one\""). It holds no schema of its own.
package yamlx
