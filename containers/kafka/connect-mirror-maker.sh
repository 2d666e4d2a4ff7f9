#!/bin/sh
# MirrorMaker 2 in dedicated mode, as /opt/kafka/bin/connect-mirror-maker.sh
# of the apache/kafka image runs it: the properties file is the argument.
exec java ${KAFKA_HEAP_OPTS:--Xmx512m} -cp "/opt/kafka/libs/*" org.apache.kafka.connect.mirror.MirrorMaker "$@"
