package kafkaadmin

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

// helloSchema is the Avro record of `hello avro`.
const helloSchema = `{"type": "record", "name": "hello", "namespace": "teststand",
 "fields": [{"name": "message", "type": "string"}, {"name": "count", "type": "int"}, {"name": "sent", "type": "double"}]}`

// HelloProduce writes n messages "Hello world <i>" to topic (created if
// missing, with one partition), or with registry the Avro record
// {message, count, sent} registered under "<topic>-value", in the
// Confluent wire format.
func (a *Admin) HelloProduce(ctx context.Context, topic string, n int, registry string) error {
	if err := a.ensureTopic(ctx, topic); err != nil {
		return err
	}
	var codec *goavro.Codec
	var id int
	if registry != "" {
		var err error
		if codec, id, err = registerHello(ctx, registry, topic); err != nil {
			return err
		}
	}
	for i := range n {
		text := fmt.Sprintf("Hello world %d", i)
		value := []byte(text)
		if codec != nil {
			out := make([]byte, 5, 64)
			binary.BigEndian.PutUint32(out[1:], uint32(id))
			var err error
			value, err = codec.BinaryFromNative(out, map[string]any{"message": text, "count": int32(i), "sent": float64(time.Now().UnixMicro()) / 1e6})
			if err != nil {
				return err
			}
		}
		res := a.Kafka.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: value})
		if err := res.FirstErr(); err != nil {
			return fmt.Errorf("produce to %s: %w", topic, err)
		}
		r := res[0].Record
		fmt.Fprintf(a.Out, "produced %q to %s[%d]@%d\n", text, topic, r.Partition, r.Offset)
	}
	return nil
}

func (a *Admin) ensureTopic(ctx context.Context, topic string) error {
	td, err := a.Adm.ListTopics(ctx, topic)
	if err != nil {
		return err
	}
	if t, ok := td[topic]; ok && t.Err == nil {
		return nil
	}
	_, err = a.createTopic(ctx, topic, 1, -1, nil)
	return err
}

func registerHello(ctx context.Context, registry, topic string) (*goavro.Codec, int, error) {
	cl, err := sr.NewClient(sr.URLs(registry))
	if err != nil {
		return nil, 0, err
	}
	ss, err := cl.CreateSchema(ctx, topic+"-value", sr.Schema{Schema: helloSchema, Type: sr.TypeAvro})
	if err != nil {
		return nil, 0, fmt.Errorf("register %s-value: %w", topic, err)
	}
	codec, err := goavro.NewCodec(helloSchema)
	return codec, ss.ID, err
}

// HelloConsume prints the first n messages of topic (from its start, with
// no consumer group, so it takes nothing from anyone), waiting at most
// timeout; with registry, values are decoded from the Confluent wire
// format and printed as JSON.
func (a *Admin) HelloConsume(ctx context.Context, topic string, n int, timeout time.Duration, registry string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(a.brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer cl.Close()
	var reg *sr.Client
	codecs := map[int]*goavro.Codec{}
	if registry != "" {
		if reg, err = sr.NewClient(sr.URLs(registry)); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	got := 0
	for got < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("consumed %d of %d messages from %s within %s", got, n, topic, timeout)
		}
		for _, r := range fs.Records() {
			if got == n {
				break
			}
			text := string(r.Value)
			if reg != nil {
				if text, err = decodeWire(ctx, reg, codecs, r.Value); err != nil {
					return fmt.Errorf("%s[%d]@%d: %w", topic, r.Partition, r.Offset, err)
				}
			}
			fmt.Fprintf(a.Out, "%s[%d]@%d: %s\n", topic, r.Partition, r.Offset, text)
			got++
		}
	}
	return nil
}

// decodeWire decodes a Confluent wire-format Avro value to JSON.
func decodeWire(ctx context.Context, reg *sr.Client, codecs map[int]*goavro.Codec, v []byte) (string, error) {
	if len(v) < 5 || v[0] != 0 {
		return "", errors.New("not the Confluent wire format (magic byte 0, schema id)")
	}
	id := int(binary.BigEndian.Uint32(v[1:5]))
	c := codecs[id]
	if c == nil {
		s, err := reg.SchemaByID(ctx, id)
		if err != nil {
			return "", fmt.Errorf("schema id %d: %w", id, err)
		}
		if c, err = goavro.NewCodec(s.Schema); err != nil {
			return "", err
		}
		codecs[id] = c
	}
	native, _, err := c.NativeFromBinary(v[5:])
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(native)
	return string(b), err
}
