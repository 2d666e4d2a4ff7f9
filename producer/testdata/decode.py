"""Reads Confluent-framed Avro records with confluent-kafka and fastavro,
libraries teststand did not write, and prints one JSON line per record.

usage: decode.py BOOTSTRAP REGISTRY_URL TOPIC COUNT
"""
import json
import sys

from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import SerializationContext, MessageField

bootstrap, registry_url, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
deserializer = AvroDeserializer(SchemaRegistryClient({"url": registry_url}))
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "independent-decoder",
                     "enable.auto.commit": False, "api.version.request": True})
consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
seen = 0
idle = 0
while seen < count and idle < 100:
    msg = consumer.poll(0.2)
    if msg is None:
        idle += 1
        continue
    if msg.error():
        print(json.dumps({"error": str(msg.error())}), flush=True)
        continue
    value = deserializer(msg.value(), SerializationContext(topic, MessageField.VALUE))
    print(json.dumps({"offset": msg.offset(), "schema_id": int.from_bytes(msg.value()[1:5], "big"), "value": value}), flush=True)
    seen += 1
consumer.close()
sys.exit(0 if seen == count else 1)
