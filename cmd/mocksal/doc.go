// Command mocksal writes mock SAL traffic on a DDS domain, for the salkafka
// producers listening there (in this process tree or on a test stand), or
// with --kafka as Kafka-era SAL components do, straight to a site's Kafka.
//
//	mocksal --domain 12 --csc ATDome --topic position --rate 10 --duration 5s
//	mocksal --salmock 100 --duration 1m     # kafkaefd salmock: first 100 topics at 1 Hz
//	mocksal --profile scenarios/profiles/nominal-summit.yaml --duration 10m --record run.jsonl
//	mocksal --replay run.jsonl --speed 4     # the same traffic, four times faster
//	mocksal --kafka 127.0.0.1:9092 --registry http://127.0.0.1:8081 --subname test --csc ATDome --duration 1m
package main
