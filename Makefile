# teststand: make demo runs the default stand; make test runs every test.
# Each target builds what it needs, on a machine with only Go and git.

GO      ?= go
BIN     := $(CURDIR)/bin
INFLUXD := $(BIN)/influxd
TELEGRAF_VERSION := 1.37.2
INFLUXDB_VERSION := v1.8.10
INFLUXDB2_VERSION := v2.7.12
INFLUXD2 := $(BIN)/influxd2
STAND   ?= scenarios/summit-usdf.yaml

.PHONY: FORCE soak fuzz cyclonedds test-dds bench-dds bench-summit test-stand-summit proto docker-engine containers-images test-containers bench-containers all tools influxdb2-tools conformance-tools build demo test test-stand test-conformance test-network bench vet fmt clean

all: build

## tools: build influxd $(INFLUXDB_VERSION) into ./bin (skipped when present)
tools: $(INFLUXD)

## conformance-tools: Apache Kafka and MirrorMaker 2 jars from Maven Central into .cache/kafka/lib, Telegraf into ./bin
KAFKA_LIB := $(CURDIR)/.cache/kafka/lib
TELEGRAF  := $(BIN)/telegraf
conformance-tools: $(KAFKA_LIB)/.resolved $(TELEGRAF)

# Telegraf is rebuilt when its version or plugins change: the stamp holds both.
TELEGRAF_TAGS  := custom,inputs.kafka_consumer,parsers.avro,outputs.influxdb,outputs.influxdb_v2
TELEGRAF_STAMP := $(CURDIR)/.cache/telegraf.build
$(TELEGRAF_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(TELEGRAF_VERSION) $(TELEGRAF_TAGS)' | cmp -s - $@ || echo '$(TELEGRAF_VERSION) $(TELEGRAF_TAGS)' > $@

$(TELEGRAF): $(TELEGRAF_STAMP)
	@mkdir -p $(BIN)
	CGO_ENABLED=0 GOBIN=$(BIN) $(GO) install -tags "$(TELEGRAF_TAGS)" \
		-ldflags "-X github.com/influxdata/telegraf/internal.Version=$(TELEGRAF_VERSION)" github.com/influxdata/telegraf/cmd/telegraf@v$(TELEGRAF_VERSION)

$(KAFKA_LIB)/.resolved: conformance/pom.xml
	@mkdir -p $(KAFKA_LIB)
	mvn -q -B -f conformance/pom.xml dependency:copy-dependencies -DoutputDirectory=$(KAFKA_LIB)
	@touch $@

## influxdb2-tools: influxd $(INFLUXDB2_VERSION) into ./bin/influxd2, for stands with
## InfluxDB 2.x sites (its Flux library needs Rust: cargo from rustup)
influxdb2-tools: $(INFLUXD2)

$(INFLUXD2): scripts/build-influxd2.sh
	@mkdir -p $(BIN)
	scripts/build-influxd2.sh $(INFLUXDB2_VERSION) $@ $(CURDIR)/.cache/influxdb2

$(INFLUXD):
	@mkdir -p $(BIN)
	CGO_ENABLED=0 GOBIN=$(BIN) $(GO) install github.com/influxdata/influxdb/cmd/influxd@$(INFLUXDB_VERSION)

## docker-engine: a Docker engine that answers (Debian's docker.io, started with vfs storage, when none does)
CONTAINERS := $(CURDIR)/.cache/containers
docker-engine:
	scripts/docker-engine.sh $(CONTAINERS)

## containers-images: the images of the containers backend, built here without pulling anything:
## teststand/kafka:4.1.1 (Debian rootfs by debootstrap, OpenJDK 17, the Maven jars),
## teststand/influxdb:1.8.10 (static influxd), teststand/components:dev (the project's binaries)
containers-images: docker-engine tools conformance-tools
	@mkdir -p $(CONTAINERS)/bin $(CONTAINERS)/influxdb/var/lib/influxdb
	CGO_ENABLED=0 GOBIN=$(CONTAINERS)/bin $(GO) install ./cmd/...
	docker build -q -t teststand/components:dev . >/dev/null
	docker image inspect teststand/kafka:4.1.1 >/dev/null 2>&1 || scripts/build-kafka-image.sh teststand/kafka:4.1.1 $(KAFKA_LIB) $(CONTAINERS)
	cp $(INFLUXD) containers/influxdb/Dockerfile containers/influxdb/influxdb.conf $(CONTAINERS)/influxdb/
	docker build -q -t teststand/influxdb:1.8.10 $(CONTAINERS)/influxdb >/dev/null

## test-containers: the containers backend's own tests, then the delivery, renaming and domain
## features and the container faults on it (a Docker engine is started when none answers)
test-containers: containers-images
	$(GO) test -tags containers -count=1 ./harness/backend/containers
	$(GO) run ./cmd/stand run scenarios/containers.yaml --features features/delivery.feature,features/replication.feature,features/domains.feature,features/sink.feature,containers/features --ts-xml= --report out/containers

## bench-containers: stand boot on the embedded, process and containers backends in one run
bench-containers: containers-images
	$(GO) test -tags containers -run '^$$' -bench StandBootContainers -benchtime 1x ./harness

## build: the project's binaries into ./bin
build:
	GOBIN=$(BIN) $(GO) install ./cmd/...

## demo: run the feature suite on the default stand (embedded backend)
demo: tools
	$(GO) run ./cmd/stand run $(STAND) --features features --parallel 3 --report out/demo

## test: every test, the feature suite included. Every test binary is
## compiled first, and the feature suite runs once the other packages are
## done: its latency bounds are judged on a machine that is not compiling
## or running another package's brokers at the same time.
test: tools influxdb2-tools conformance-tools
	$(GO) test -exec true ./... > /dev/null
	$(GO) test $$($(GO) list ./... | grep -v '/harness$$')
	$(GO) test ./harness

## test-stand: the feature suite only, reports under out/test-stand
test-stand: tools
	$(GO) run ./cmd/stand run $(STAND) --features features --parallel 3 --report out/test-stand

## test-conformance: on real Apache Kafka (backend process), with the
## stands' own interfaces (the recordings and profiles are made for them,
## whatever TS_XML_DIR says): the feature
## suite; the replication features and the stand taken from Sasquatch's deployment with real MirrorMaker 2 as the
## replicator; the side-by-side features (MM2 and the replicator name
## replicas alike, Telegraf and the sink write the same points, into
## InfluxDB 1.x and 2.x); the delivery and sink features with the EFD on
## InfluxDB 2.x; the delivery, replication, sink and Kafka-era features with
## Kafka-era SAL writers; a summit broker of three killed mid-stream (RF 3,
## min.insync.replicas 2, acks all), and two at once; the link faults with
## MirrorMaker 2; the delivery, replication, sink, ACL and InfluxDB
## features on the secured stand, on kfake and on Apache Kafka with
## MirrorMaker 2, Telegraf and the binaries; and the network fault features
## (test-network)
test-conformance: tools influxdb2-tools conformance-tools
	$(GO) run ./cmd/stand run $(STAND) --features features --backend process --parallel 2 --ts-xml= --report out/conformance/process
	$(GO) run ./cmd/stand run $(STAND) --features features/replication.feature,features/two-way.feature,features/chain.feature,features/identity.feature,features/sasquatch.feature,features/faults.feature --backend process --replicator mirrormaker2 --ts-xml= --report out/conformance/mirrormaker2
	$(GO) run ./cmd/stand run $(STAND) --features conformance/features --ts-xml= --report out/conformance/side-by-side
	$(GO) run ./cmd/stand run scenarios/influxdb2.yaml --features features/delivery.feature,features/sink.feature --ts-xml= --report out/conformance/influxdb2
	$(GO) run ./cmd/stand run scenarios/three-brokers.yaml --features conformance/faults --ts-xml= --report out/conformance/broker-faults
	$(GO) run ./cmd/stand run scenarios/kafka-era.yaml --features features/delivery.feature,features/replication.feature,features/sink.feature,features/kafka-era.feature --backend process --ts-xml= --report out/conformance/kafka-era
	$(GO) run ./cmd/stand run scenarios/secured.yaml --features features/delivery.feature,features/replication.feature,features/sink.feature,conformance/secured --ts-xml= --report out/conformance/secured
	$(GO) run ./cmd/stand run scenarios/secured.yaml --backend process --features features/delivery.feature,features/replication.feature,features/sink.feature,conformance/secured,conformance/secured-process --ts-xml= --report out/conformance/secured-process
	$(MAKE) test-network

## test-network: the network fault features under the summit's nominal
## load (a 60 s summit-USDF partition, the USDF's InfluxDB blackholed, the
## summit registry partitioned while a CSC starts) on the embedded and
## process backends, and the side-by-side partition of MirrorMaker 2 and
## the replicator
test-network: tools conformance-tools
	$(GO) run ./cmd/stand run scenarios/summit-loaded.yaml --features conformance/network --ts-xml= --report out/conformance/network
	$(GO) run ./cmd/stand run scenarios/summit-loaded.yaml --features conformance/network --backend process --ts-xml= --report out/conformance/network-process

## test-stand-summit: the whole summit (every CSC of ../shared/ts_xml/full at
## the summit profile's rates, every index) for 60 s through the whole
## stack, each sample checked at the USDF's Kafka and EFD
test-stand-summit: tools
	$(GO) run ./cmd/stand run scenarios/whole-summit.yaml --features conformance/summit --ts-xml= --report out/test-stand-summit

## bench-summit: the whole summit at 0.25×, 0.5×, 1× and 2× its rates on the
## embedded and process backends: out/bench-summit/results.json and index.html
bench-summit: tools conformance-tools
	$(GO) test -tags summit -run '^$$' -bench Summit -benchtime 1x -timeout 120m ./harness

## cyclonedds: Debian's Cyclone DDS 0.10 (libddsc and its headers, idlc) and a C compiler, for
## the real-DDS build (-tags cyclonedds), installed when missing
cyclonedds:
	@test -f /usr/include/dds/dds.h && command -v idlc >/dev/null && command -v cc >/dev/null || \
		(apt-get update && apt-get install -y cyclonedds-dev cyclonedds-tools gcc)

## test-dds: real DDS (RTPS with Cyclone DDS): the binding's tests (layouts checked against
## idlc's, round trips), the producer against PyPI's cyclonedds both ways, then the domains,
## producer, delivery and hotadd features with every sample crossing DDS to the salkafka binaries
test-dds: tools cyclonedds
	$(GO) vet -tags cyclonedds ./dds/... ./producer ./mocksal ./cmd/...
	$(GO) test -tags cyclonedds -count=1 ./dds/... ./producer ./mocksal
	$(GO) run -tags cyclonedds ./cmd/stand run scenarios/dds.yaml --features features/domains.feature,features/producer.feature,features/delivery.feature,features/hotadd.feature --ts-xml= --report out/test-dds

## bench-dds: samples/s and CPU µs/sample through real DDS against the simulated bus
bench-dds: cyclonedds
	$(GO) test -tags cyclonedds -run '^$$' -bench Transport -benchtime 1x ./dds/cyclonedds

## fuzz: every fuzz target (SAL XML, stand loader, MM2 properties, heartbeats, sink rules, the sink's
## Confluent-frame and Avro decoder, REST proxy and registry bodies, SAL text, the Sasquatch
## importers) for FUZZTIME (default 2m) each; corpora kept under each package's testdata/fuzz
fuzz:
	scripts/fuzz.sh

## soak: the default stand for SOAK_DURATION (30m) at SOAK_SCALE (2) times the nominal
## profile's rates; every process's RSS and goroutines each minute; fails on any loss or a
## project binary's memory growing over 1 MB/min; figures in out/soak/
soak: tools
	$(GO) test -tags soak -run '^TestSoak$$' -count=1 -timeout 90m -v ./harness

## bench: benchmarks
bench: tools
	$(GO) test -run '^$$' -bench . -benchmem ./...

## proto: regenerate aliecs/eventspb from events.proto (protoc from Debian's protobuf-compiler)
proto:
	@command -v protoc >/dev/null || (apt-get update && apt-get install -y protobuf-compiler)
	GOBIN=$(CURDIR)/.cache/tools/bin $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	cd aliecs/eventspb && PATH=$(CURDIR)/.cache/tools/bin:$$PATH protoc --go_out=. --go_opt=paths=source_relative events.proto

vet:
	$(GO) vet ./...
	$(GO) vet -tags summit ./harness
	$(GO) vet -tags soak ./harness
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

clean:
	rm -rf out
