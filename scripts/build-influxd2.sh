#!/usr/bin/env bash
# build-influxd2.sh VERSION OUT WORKDIR: builds InfluxDB 2.x's influxd from
# the Go module proxy and crates.io into OUT.
#
# influxd 2.x links libflux, a Rust library that InfluxData's pkg-config
# wrapper builds with cargo during `go build`. Two things keep it from
# building with a current Rust as released: flux pins Rust 1.72 in its
# rust-toolchain file (RUSTUP_TOOLCHAIN=stable overrides it), and its
# crates deny all warnings under the `strict` feature, which newer lints
# turn into errors. So the flux module is copied into WORKDIR with
# `strict` taken out of its default features and put in place of the
# published one with a go.mod replace; the InfluxDB source is not changed.
set -euo pipefail
version=$1 out=$2 work=$3
export GOFLAGS=-mod=mod RUSTUP_TOOLCHAIN=stable
export PATH="$work/bin:$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || { echo "build-influxd2: cargo not found (install Rust with rustup)" >&2; exit 1; }
mkdir -p "$work"
GOBIN="$work/bin" go install github.com/influxdata/pkg-config@v0.2.7

moddir() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }

src=$(moddir "github.com/influxdata/influxdb/v2@$version")
[ -n "$src" ] || { echo "build-influxd2: cannot download influxdb $version" >&2; exit 1; }
rm -rf "$work/influxdb"
cp -r "$src" "$work/influxdb"
chmod -R u+w "$work/influxdb"

fluxver=$(awk '$1 == "github.com/influxdata/flux" { print $2; exit }' "$work/influxdb/go.mod")
if [ ! -f "$work/flux-$fluxver/.patched" ]; then
	rm -rf "$work/flux-$fluxver"
	cp -r "$(moddir "github.com/influxdata/flux@$fluxver")" "$work/flux-$fluxver"
	chmod -R u+w "$work/flux-$fluxver"
	sed -i 's/^default = \["strict"\]/default = []/' "$work/flux-$fluxver/libflux/flux-core/Cargo.toml"
	sed -i 's/^default = \["strict", "cffi"\]/default = ["cffi"]/' "$work/flux-$fluxver/libflux/flux/Cargo.toml"
	grep -q '"strict"' "$work/flux-$fluxver/libflux/flux-core/Cargo.toml" "$work/flux-$fluxver/libflux/flux/Cargo.toml" \
		&& grep -n '^default' "$work/flux-$fluxver/libflux/flux-core/Cargo.toml" "$work/flux-$fluxver/libflux/flux/Cargo.toml" | grep -q strict \
		&& { echo "build-influxd2: flux $fluxver: could not take out the strict feature" >&2; exit 1; }
	touch "$work/flux-$fluxver/.patched"
fi
cd "$work/influxdb"
go mod edit -replace "github.com/influxdata/flux=$work/flux-$fluxver"
go build -ldflags "-X main.version=$version" -o "$out" ./cmd/influxd
"$out" version
