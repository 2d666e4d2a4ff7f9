#!/usr/bin/env bash
# build-kafka-image.sh TAG JARS WORKDIR: builds a Kafka image without
# pulling anything: a Debian rootfs from debootstrap with
# openjdk-17-jre-headless (Debian's packages), the Apache Kafka jars the
# conformance tier resolves from Maven Central, and an entrypoint that
# reads the apache/kafka image's KAFKA_* variables. The rootfs is kept in
# WORKDIR, so a rebuild only re-imports it.
set -euo pipefail
tag=$1 jars=$2 work=$3 here=$(cd "$(dirname "$0")/.." && pwd)
rootfs=$work/kafka-rootfs
mkdir -p "$work"
if [ ! -f "$work/kafka-rootfs.done" ]; then
	command -v debootstrap >/dev/null || { apt-get update && apt-get install -y debootstrap; }
	rm -rf "$rootfs"
	debootstrap --variant=minbase --include=openjdk-17-jre-headless bookworm "$rootfs" http://deb.debian.org/debian
	rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
	touch "$work/kafka-rootfs.done"
fi
rm -rf "$rootfs/opt/kafka"
mkdir -p "$rootfs/opt/kafka/libs" "$rootfs/opt/kafka/bin"
cp "$jars"/*.jar "$rootfs/opt/kafka/libs/"
install -m 755 "$here/containers/kafka/run" "$rootfs/opt/kafka/bin/teststand-kafka-run"
install -m 755 "$here/containers/kafka/connect-mirror-maker.sh" "$rootfs/opt/kafka/bin/connect-mirror-maker.sh"
tar -C "$rootfs" -c . | docker import \
	--change 'ENV PATH=/opt/kafka/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'WORKDIR /opt/kafka' \
	--change 'EXPOSE 9092' \
	--change 'ENTRYPOINT ["/opt/kafka/bin/teststand-kafka-run"]' \
	- "$tag" >/dev/null
echo "built $tag"
