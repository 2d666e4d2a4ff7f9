#!/usr/bin/env bash
# docker-engine.sh LOGDIR: makes sure a Docker engine answers. When
# `docker info` fails, it installs Debian's docker.io if dockerd is
# missing and starts `dockerd --iptables=false --storage-driver=vfs` in
# the background (its log in LOGDIR/dockerd.log); it fails loudly, with
# that log, when the engine does not come up.
set -euo pipefail
logdir=$1
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null; then
	echo "docker-engine: installing Debian's docker.io"
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io
fi
command -v docker >/dev/null || { echo "docker-engine: no docker client after installing docker.io" >&2; exit 1; }
mkdir -p "$logdir"
echo "docker-engine: starting dockerd --iptables=false --storage-driver=vfs (log: $logdir/dockerd.log)"
nohup dockerd --iptables=false --storage-driver=vfs >"$logdir/dockerd.log" 2>&1 &
for _ in $(seq 60); do
	if docker info >/dev/null 2>&1; then exit 0; fi
	sleep 0.5
done
echo "docker-engine: the Docker engine did not come up in 30 s; dockerd's log:" >&2
tail -50 "$logdir/dockerd.log" >&2
exit 1
