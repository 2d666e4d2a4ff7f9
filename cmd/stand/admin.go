package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lsst-ts/teststand/internal/cli"
	"github.com/lsst-ts/teststand/kafkaadmin"
)

const adminUsage = `usage:
  stand admin [--brokers B] topics list [--internal] [--detail]
  stand admin [--brokers B] topics create NAME [--partitions N] [--replication-factor R] [--config k=v]...
  stand admin [--brokers B] topics config NAME [--detail] [--set k=v | --set k v]...
  stand admin [--brokers B] topics partition NAME N
  stand admin [--brokers B] topics delete NAME
  stand admin [--brokers B] brokers
  (a write returns once every broker shows it, waiting at most --wait D, default 30s, 0 not at all;
   exit 3 when the cluster accepted it but a broker did not show it within that)
  stand hello [--brokers B] [--registry URL] world|avro produce|consume [--topic T] [--count N] [--timeout D]
  stand salschema convert [--ts-xml DIR] [--csc A,B] [--subname S] [--write DIR] [--upload --registry URL]
(--brokers defaults to $KAFKA_BROKERS, --registry to $SCHEMA_REGISTRY_URL)`

// multi is a repeatable k=v flag.
type multi map[string]string

func (m multi) String() string { return fmt.Sprint(map[string]string(m)) }
func (m multi) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: want k=v", s)
	}
	m[k] = v
	return nil
}

// joinSet turns "--set k v" into "--set k=v", kafkaefd's spelling.
func joinSet(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if (a == "--set" || a == "-set") && i+2 < len(args) && !strings.Contains(args[i+1], "=") && !strings.HasPrefix(args[i+2], "-") {
			out = append(out, a, args[i+1]+"="+args[i+2])
			i += 2
			continue
		}
		out = append(out, a)
	}
	return out
}

// splitArgs separates positional arguments from flags; names lists the
// boolean flags, which take no value.
func splitArgs(args []string, boolean ...string) (pos, flags []string) {
	isBool := map[string]bool{}
	for _, b := range boolean {
		isBool["-"+b], isBool["--"+b] = true, true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			flags = append(flags, a)
			if !isBool[a] && !strings.Contains(a, "=") && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return pos, flags
}

func adminCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	top := flag.NewFlagSet("admin", flag.ContinueOnError)
	top.SetOutput(stderr)
	brokers := top.String("brokers", os.Getenv("KAFKA_BROKERS"), "Kafka seed brokers, host:port[,host:port]")
	if err := top.Parse(args); err != nil || top.NArg() == 0 {
		fmt.Fprintln(stderr, adminUsage)
		return 2
	}
	pos, flags := splitArgs(joinSet(top.Args()), "internal", "detail")
	fs := flag.NewFlagSet("admin "+pos[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	internal := fs.Bool("internal", false, "list: include internal topics")
	detail := fs.Bool("detail", false, "list: partitions and replication; config: every value with its source")
	partitions := fs.Int("partitions", 1, "create: partitions")
	rf := fs.Int("replication-factor", -1, "create: replication factor (-1: the broker's default)")
	settle := fs.Duration("wait", kafkaadmin.DefaultSettle, "create, config --set, partition, delete: wait at most this long for every broker to show the change (0: do not wait)")
	configs, set := multi{}, multi{}
	fs.Var(configs, "config", "create: a topic config k=v (repeatable)")
	fs.Var(set, "set", "config: set k=v (repeatable)")
	if err := fs.Parse(flags); err != nil {
		return 2
	}
	need := map[string]int{"topics list": 0, "topics create": 1, "topics config": 1, "topics partition": 2, "topics delete": 1, "brokers": 0}
	cmd, rest := pos[0], pos[1:]
	if cmd == "topics" && len(rest) > 0 {
		cmd, rest = "topics "+rest[0], rest[1:]
	}
	n, ok := need[cmd]
	if !ok || len(rest) != n {
		fmt.Fprintln(stderr, adminUsage)
		return 2
	}
	a, err := kafkaadmin.New(cli.List(*brokers), stdout)
	if err != nil {
		fmt.Fprintln(stderr, "stand admin:", err)
		return 2
	}
	defer a.Close()
	a.Settle = *settle
	ctx, cancel := context.WithTimeout(ctx, time.Minute+max(*settle, 0))
	defer cancel()
	switch cmd {
	case "topics list":
		err = a.ListTopics(ctx, *internal, *detail)
	case "topics create":
		err = a.CreateTopic(ctx, rest[0], int32(*partitions), int16(*rf), configs)
	case "topics config":
		err = a.Config(ctx, rest[0], *detail, set)
	case "topics partition":
		var p int
		if p, err = strconv.Atoi(rest[1]); err != nil || p < 1 {
			fmt.Fprintf(stderr, "stand admin: topics partition %s %s: want a partition count of 1 or more\n", rest[0], rest[1])
			return 2
		}
		err = a.SetPartitions(ctx, rest[0], p)
	case "topics delete":
		err = a.DeleteTopic(ctx, rest[0])
	case "brokers":
		err = a.Brokers(ctx)
	}
	if err != nil {
		fmt.Fprintln(stderr, "stand admin:", err)
		if errors.Is(err, kafkaadmin.ErrNotVisible) {
			return 3
		}
		return 1
	}
	return 0
}

func helloCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	top := flag.NewFlagSet("hello", flag.ContinueOnError)
	top.SetOutput(stderr)
	brokers := top.String("brokers", os.Getenv("KAFKA_BROKERS"), "Kafka seed brokers")
	registry := top.String("registry", os.Getenv("SCHEMA_REGISTRY_URL"), "schema registry URL (hello avro)")
	if err := top.Parse(args); err != nil {
		return 2
	}
	pos, flags := splitArgs(top.Args())
	fs := flag.NewFlagSet("hello", flag.ContinueOnError)
	fs.SetOutput(stderr)
	topic := fs.String("topic", "", `topic (default "helloworld" or "helloavro")`)
	count := fs.Int("count", 10, "messages to produce or consume")
	timeout := fs.Duration("timeout", 30*time.Second, "consume: give up after this long")
	if err := fs.Parse(flags); err != nil {
		return 2
	}
	if len(pos) != 2 || (pos[0] != "world" && pos[0] != "avro") || (pos[1] != "produce" && pos[1] != "consume") {
		fmt.Fprintln(stderr, adminUsage)
		return 2
	}
	reg := ""
	if pos[0] == "avro" {
		if *registry == "" {
			fmt.Fprintln(stderr, "stand hello avro: --registry (or SCHEMA_REGISTRY_URL) is required")
			return 2
		}
		reg = *registry
	}
	if *topic == "" {
		*topic = "hello" + pos[0]
	}
	a, err := kafkaadmin.New(cli.List(*brokers), stdout)
	if err != nil {
		fmt.Fprintln(stderr, "stand hello:", err)
		return 2
	}
	defer a.Close()
	if pos[1] == "produce" {
		err = a.HelloProduce(ctx, *topic, *count, reg)
	} else {
		err = a.HelloConsume(ctx, *topic, *count, *timeout, reg)
	}
	if err != nil {
		fmt.Fprintln(stderr, "stand hello:", err)
		return 1
	}
	return 0
}

func salschemaCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "convert" {
		fmt.Fprintln(stderr, adminUsage)
		return 2
	}
	fs := flag.NewFlagSet("salschema convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tsxml := fs.String("ts-xml", os.Getenv("TS_XML_DIR"), "ts_xml sal_interfaces directory (default: the project's sample interfaces)")
	cscs := fs.String("csc", "", "CSCs to convert, comma-separated (default: all)")
	subname := fs.String("subname", "sal", "topic name part after lsst.")
	write := fs.String("write", "", "write <topic>.avsc files into this directory")
	upload := fs.Bool("upload", false, "register each schema in the registry")
	registry := fs.String("registry", os.Getenv("SCHEMA_REGISTRY_URL"), "registry URL (with --upload)")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, adminUsage)
		return 2
	}
	if *upload && *registry == "" {
		fmt.Fprintln(stderr, "stand salschema convert: --upload needs --registry (or SCHEMA_REGISTRY_URL)")
		return 2
	}
	ifs, err := cli.Interfaces(*tsxml)
	if err != nil {
		fmt.Fprintln(stderr, "stand salschema convert:", err)
		return 2
	}
	o := kafkaadmin.ConvertOptions{CSCs: cli.List(*cscs), Subname: *subname, WriteDir: *write}
	if *upload {
		o.RegistryURL = *registry
	}
	n, err := kafkaadmin.ConvertSchemas(ctx, ifs, o, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "stand salschema convert:", err)
		return 1
	}
	fmt.Fprintf(stderr, "%d topics converted\n", n)
	return 0
}
