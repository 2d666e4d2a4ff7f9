"""An independent DDS peer for teststand's real-DDS tests.

PyPI's cyclonedds (the Python binding with its own libddsc build) writes or
reads SAL-shaped samples of the topics a JSON spec on stdin describes: the
DDS-era topic and type names, the partition, the topic kind, and the IDL
members (name, IDL type, array length, string bound) in struct order. The
Python types are built here from the IDL types, by this binding's own
rules, not from teststand's C layout.

    python ddspeer.py write < spec.json   # writes each topic's "samples", prints "written"
    python ddspeer.py read  < spec.json   # prints each topic's first "count" samples as JSON lines
"""

import json
import sys
import time

from cyclonedds.core import Policy, Qos
from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import make_idl_struct
from cyclonedds.idl import types as T
from cyclonedds.pub import DataWriter, Publisher
from cyclonedds.sub import DataReader, Subscriber
from cyclonedds.topic import Topic
from cyclonedds.util import duration

SCALARS = {
    "boolean": bool,
    "octet": T.uint8,
    "char": T.int8,
    "short": T.int16,
    "unsigned short": T.uint16,
    "long": T.int32,
    "unsigned long": T.uint32,
    "long long": T.int64,
    "unsigned long long": T.uint64,
    "float": T.float32,
    "double": T.float64,
}


def idl_type(m):
    if m["idl"] == "string":
        return str
    if m["idl"].startswith("string<"):
        return T.bounded_str[int(m["idl"][len("string<"):-1])]
    t = SCALARS[m["idl"]]
    return T.array[t, m["count"]] if m["count"] > 1 else t


def struct(spec):
    fields = {m["name"]: idl_type(m) for m in spec["members"]}
    ann = {"salIndex": {"key": True}} if spec["key"] else None
    name = spec["type_name"].split("::")[-1]
    return make_idl_struct(name, spec["type_name"], fields, field_annotations=ann)


def qos(kind):
    """ts_ddsconfig's QoS.xml for the topic kind."""
    durability = Policy.Durability.Transient if kind == "event" else Policy.Durability.Volatile
    ownership = Policy.Ownership.Exclusive if kind == "ackcmd" else Policy.Ownership.Shared
    return Qos(
        Policy.Reliability.Reliable(duration(milliseconds=100)),
        Policy.History.KeepLast(100),
        durability,
        ownership,
    )


def main():
    mode = sys.argv[1]
    spec = json.loads(sys.stdin.readline())
    dp = DomainParticipant(spec["domain"])
    deadline = time.monotonic() + 30
    if mode == "write":
        writers = []
        for t in spec["topics"]:
            cls = struct(t)
            pub = Publisher(dp, qos=Qos(Policy.Partition(partitions=[t["partition"]])))
            w = DataWriter(pub, Topic(dp, t["topic_name"], cls), qos=qos(t["kind"]))
            writers.append((w, cls, t))
        # A volatile writer's samples reach only matched readers.
        for w, _, t in writers:
            while w.get_publication_matched_status().current_count == 0:
                if time.monotonic() > deadline:
                    sys.exit("no reader matched " + t["topic_name"])
                time.sleep(0.01)
        print("matched", file=sys.stderr, flush=True)
        for w, cls, t in writers:
            for s in t["samples"]:
                w.write(cls(**s))
        print("wrote", file=sys.stderr, flush=True)
        for w, _, _ in writers:
            w.wait_for_acks(duration(seconds=10))
        print("written", flush=True)
        # Stay until the reader side says it has everything (stdin closes).
        sys.stdin.read()
        return
    readers = []
    for t in spec["topics"]:
        cls = struct(t)
        sub = Subscriber(dp, qos=Qos(Policy.Partition(partitions=[t["partition"]])))
        readers.append((DataReader(sub, Topic(dp, t["topic_name"], cls), qos=qos(t["kind"])), t))
    print("ready", flush=True)
    for r, t in readers:
        got = 0
        while got < t["count"]:
            if time.monotonic() > deadline:
                sys.exit(f"{t['topic_name']}: read {got} of {t['count']} samples")
            for s in r.take(t["count"] - got):
                d = {m["name"]: getattr(s, m["name"]) for m in t["members"]}
                for k, v in d.items():
                    if not isinstance(v, (bool, int, float, str)):
                        d[k] = list(v)
                print(json.dumps({"topic": t["topic_name"], "sample": d}), flush=True)
                got += 1
            time.sleep(0.005)


if __name__ == "__main__":
    main()
