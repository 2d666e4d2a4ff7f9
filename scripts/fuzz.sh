#!/usr/bin/env bash
# make fuzz: every fuzz target for FUZZTIME (default 2m) each, one after
# the other. Each target's corpus is kept under its package's
# testdata/fuzz/<target> (the inputs Go found interesting are copied there
# from its cache, so the next run and every `go test` start from them); a
# crasher Go writes there too, and the run fails. Figures: out/fuzz/.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-2m}
cache=$(go env GOCACHE)/fuzz/$(go list -m)
out=out/fuzz
mkdir -p "$out"
: > "$out/summary.txt"
status=0
for t in sal:FuzzParseTopics harness/stand:FuzzParse replication:FuzzMM2Properties replication:FuzzHeartbeat \
	sink:FuzzRules sink:FuzzDecodeValue restproxy:FuzzBodies registry:FuzzBodies \
	saltransform:FuzzParse sasquatch:FuzzParseManifests sasquatch:FuzzParseTelegraf; do
	pkg=${t%%:*} name=${t##*:}
	echo "== $pkg $name ($fuzztime)"
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 2s "./$pkg" > "$out/$name-${pkg//\//-}.log" 2>&1; then
		status=1
		echo "   FAILED: see $out/$name-${pkg//\//-}.log and $pkg/testdata/fuzz/$name"
	fi
	mkdir -p "$pkg/testdata/fuzz/$name"
	if [ -d "$cache/$pkg/$name" ]; then
		cp -n "$cache/$pkg/$name"/* "$pkg/testdata/fuzz/$name/" 2>/dev/null || true
	fi
	last=$(grep -E 'fuzz: elapsed' "$out/$name-${pkg//\//-}.log" | tail -1)
	echo "$pkg $name: ${last#*fuzz: }, corpus $(ls "$pkg/testdata/fuzz/$name" | wc -l) files" | tee -a "$out/summary.txt"
done
exit $status
