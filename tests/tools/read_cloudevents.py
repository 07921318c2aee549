"""Reads topics from their start to their end as an integrator would: librdkafka (confluent-kafka)
for the records and the CloudEvents SDK's Kafka binding (binary content mode) for the events, none
of it written here. Prints one JSON object: how many events of each type, and every record the SDK
could not read. Exits 1 if there was any.

    read_cloudevents.py BROKERS TOPIC [TOPIC ...]
"""

import json
import sys
import uuid
from collections import Counter

from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event
from confluent_kafka import Consumer, KafkaError, TopicPartition


def main(brokers: str, topics: list[str]) -> int:
    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": f"cloudevents-reader-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    assignment = [
        TopicPartition(topic, partition, 0)
        for topic in topics
        for partition in consumer.list_topics(topic, timeout=10).topics[topic].partitions
    ]
    consumer.assign(assignment)
    open_partitions = {(tp.topic, tp.partition) for tp in assignment}
    types: Counter[str] = Counter()
    unreadable = []
    while open_partitions:
        message = consumer.poll(10)
        if message is None:
            raise SystemExit(f"no record and no end of partition within 10 s: {sorted(open_partitions)}")
        if message.error():
            if message.error().code() == KafkaError._PARTITION_EOF:
                open_partitions.discard((message.topic(), message.partition()))
                continue
            raise SystemExit(f"kafka: {message.error()}")
        headers = {name: value or b"" for name, value in message.headers() or []}
        try:
            event = from_binary_event(KafkaMessage(headers=headers, key=message.key(), value=message.value()))
            attributes = event.get_attributes()
            for required in ("id", "source", "type", "specversion", "time", "subject"):
                if not attributes.get(required):
                    raise ValueError(f"no {required}")
            if attributes["specversion"] != "1.0" or attributes["datacontenttype"] != "application/json":
                raise ValueError(f"specversion {attributes['specversion']}, content {attributes['datacontenttype']}")
            if not isinstance(event.get_data(), dict):
                raise ValueError("data is not a JSON object")
            if attributes["subject"] != message.key().decode():
                raise ValueError("subject is not the record key")
            types[attributes["type"]] += 1
        except Exception as error:  # every unreadable record is reported, none stops the reading
            unreadable.append({"topic": message.topic(), "offset": message.offset(), "error": repr(error)})
    consumer.close()
    print(json.dumps({"types": types, "unreadable": unreadable}, sort_keys=True))
    return 1 if unreadable else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
