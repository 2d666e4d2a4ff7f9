"""Print every topic's Avro schema as ts_xml's own code builds it.

Run with ts_xml's python directory on PYTHONPATH (and fastavro and astropy
installed): one JSON line per topic of every CSC whose sal_interfaces
directory exists, {"csc", "topic", "kafka", "schema"}, the schema being
TopicInfo.make_avro_schema() with its keys in the order ts_xml made them.
"""

import json
import sys
from xml.etree import ElementTree

from lsst.ts.xml import component_info, utils


def main() -> None:
    sal_dir = utils.get_sal_interfaces_dir()
    root = ElementTree.parse(sal_dir / "SALSubsystems.xml").getroot()
    n = 0
    for elt in root:
        name = elt.find("Name").text
        if not (sal_dir / name).is_dir():
            continue
        info = component_info.ComponentInfo(name, topic_subname="sal")
        for topic in info.topics.values():
            line = {
                "csc": name,
                "topic": topic.sal_name,
                "kafka": topic.kafka_name,
                "schema": topic.make_avro_schema(),
            }
            print(json.dumps(line))
            n += 1
    print(f"{n} topics", file=sys.stderr)


if __name__ == "__main__":
    main()
