package restproxy

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

// Config configures a Proxy.
type Config struct {
	// Brokers are the Kafka seed brokers.
	Brokers []string
	// RegistryURL is the schema registry for Avro.
	RegistryURL string
	// RegistryUsername and RegistryPassword are the registry's basic auth.
	RegistryUsername, RegistryPassword string
	// Tokens maps a bearer token to the topic prefixes it may produce to
	// and create (e.g. "lsst.dm"). Empty: no authentication.
	Tokens map[string][]string
	// Partitions and ReplicationFactor are used by a v3 topic creation
	// that does not give them (defaults 1 and -1, the broker's default).
	Partitions        int32
	ReplicationFactor int16
	// MaxBody bounds a request body (default 16 MiB).
	MaxBody int64
	Logger  *slog.Logger
	// KafkaOpts are extra client options (tests lower metadata ages).
	KafkaOpts []kgo.Opt
}

// Stats count what the proxy did.
type Stats struct {
	Records, Requests, Refused atomic.Int64
}

// Proxy serves the REST API against one Kafka cluster.
type Proxy struct {
	cfg   Config
	log   *slog.Logger
	kafka *kgo.Client
	adm   *kadm.Client
	reg   *sr.Client
	Stats Stats

	mu     sync.Mutex
	codecs map[int]*goavro.Codec
}

// partitionKey carries a record's requested partition to the partitioner.
type partitionKey struct{}

// New connects to Kafka and the registry (lazily: nothing blocks here).
func New(cfg Config) (*Proxy, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("restproxy: no brokers")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 16 << 20
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.RecordPartitioner(requestedPartitioner{kgo.StickyKeyPartitioner(nil)}),
		kgo.ProducerLinger(0),
	}, cfg.KafkaOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("restproxy: kafka: %w", err)
	}
	p := &Proxy{cfg: cfg, log: cfg.Logger, kafka: cl, adm: kadm.NewClient(cl), codecs: map[int]*goavro.Codec{}}
	if cfg.RegistryURL != "" {
		ropts := []sr.ClientOpt{sr.URLs(cfg.RegistryURL)}
		if cfg.RegistryUsername != "" {
			ropts = append(ropts, sr.BasicAuth(cfg.RegistryUsername, cfg.RegistryPassword))
		}
		if p.reg, err = sr.NewClient(ropts...); err != nil {
			cl.Close()
			return nil, fmt.Errorf("restproxy: registry: %w", err)
		}
	}
	return p, nil
}

// Close closes the Kafka client.
func (p *Proxy) Close() { p.kafka.Close() }

// requestedPartitioner sends a record to the partition its request named,
// and otherwise partitions as the Java client does.
type requestedPartitioner struct{ base kgo.Partitioner }

func (p requestedPartitioner) ForTopic(t string) kgo.TopicPartitioner {
	return requestedTopicPartitioner{p.base.ForTopic(t)}
}

type requestedTopicPartitioner struct{ kgo.TopicPartitioner }

func (t requestedTopicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	if _, ok := requested(r); ok {
		return true
	}
	return t.TopicPartitioner.RequiresConsistency(r)
}

func (t requestedTopicPartitioner) Partition(r *kgo.Record, n int) int {
	if p, ok := requested(r); ok {
		return int(p)
	}
	return t.TopicPartitioner.Partition(r, n)
}

func requested(r *kgo.Record) (int32, bool) {
	if r.Context == nil {
		return 0, false
	}
	p, ok := r.Context.Value(partitionKey{}).(int32)
	return p, ok
}

const (
	v2Type = "application/vnd.kafka.v2+json"
	v3Type = "application/json"
)

// Handler is the proxy's HTTP API.
func (p *Proxy) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /topics", p.v2(p.listTopics))
	mux.HandleFunc("GET /topics/{topic}", p.v2(p.getTopic))
	mux.HandleFunc("POST /topics/{topic}", p.v2(p.produce))
	mux.HandleFunc("POST /topics/{topic}/partitions/{partition}", p.v2(p.produce))
	mux.HandleFunc("GET /v3/clusters", p.v3(p.listClusters))
	mux.HandleFunc("GET /v3/clusters/{cluster}", p.v3(p.getCluster))
	mux.HandleFunc("GET /v3/clusters/{cluster}/topics", p.v3(p.v3ListTopics))
	mux.HandleFunc("POST /v3/clusters/{cluster}/topics", p.v3(p.createTopic))
	mux.HandleFunc("DELETE /v3/clusters/{cluster}/topics/{topic}", p.v3(p.deleteTopic))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	return mux
}

type handler func(r *http.Request) (status int, body any, err *Error)

func (p *Proxy) v2(h handler) http.HandlerFunc { return p.serve(v2Type, h) }
func (p *Proxy) v3(h handler) http.HandlerFunc { return p.serve(v3Type, h) }

func (p *Proxy) serve(contentType string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p.Stats.Requests.Add(1)
		r.Body = http.MaxBytesReader(w, r.Body, p.cfg.MaxBody)
		if e := p.authenticate(r); e != nil {
			p.Stats.Refused.Add(1)
			writeError(w, contentType, e)
			return
		}
		status, body, e := h(r)
		if e != nil {
			if e.Code/100 == 401 || e.Code/100 == 403 {
				p.Stats.Refused.Add(1)
			}
			p.log.Debug("restproxy: refused", "method", r.Method, "path", r.URL.Path, "code", e.Code, "message", e.Message)
			writeError(w, contentType, e)
			return
		}
		writeJSON(w, status, contentType, body)
	}
}

type tokenKey struct{}

// authenticate checks the bearer token, when tokens are configured, and
// remembers its prefixes on the request.
func (p *Proxy) authenticate(r *http.Request) *Error {
	if len(p.cfg.Tokens) == 0 {
		return nil
	}
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		return errorf(CodeUnauthorized, "Unauthorized: a bearer token is required (Authorization: Bearer <token>)")
	}
	prefixes, ok := p.cfg.Tokens[token]
	if !ok {
		return errorf(CodeUnauthorized, "Unauthorized: unknown token")
	}
	*r = *r.WithContext(context.WithValue(r.Context(), tokenKey{}, prefixes))
	return nil
}

// permit checks the request's token may write topic.
func (p *Proxy) permit(r *http.Request, topic string) *Error {
	if len(p.cfg.Tokens) == 0 {
		return nil
	}
	prefixes, _ := r.Context().Value(tokenKey{}).([]string)
	for _, pre := range prefixes {
		if topic == pre || strings.HasPrefix(topic, strings.TrimSuffix(pre, ".")+".") {
			return nil
		}
	}
	return errorf(CodeForbidden, "Forbidden: this token may not write topic %q (allowed: %s)", topic, strings.Join(prefixes, ", "))
}

// produceRequest is a v2 produce body.
type produceRequest struct {
	KeySchema     string          `json:"key_schema"`
	KeySchemaID   *int            `json:"key_schema_id"`
	ValueSchema   string          `json:"value_schema"`
	ValueSchemaID *int            `json:"value_schema_id"`
	Records       []produceRecord `json:"records"`
}

type produceRecord struct {
	Key       json.RawMessage `json:"key"`
	Value     json.RawMessage `json:"value"`
	Partition *int32          `json:"partition"`
}

type offset struct {
	Partition *int32  `json:"partition"`
	Offset    *int64  `json:"offset"`
	ErrorCode *int    `json:"error_code"`
	Error     *string `json:"error"`
}

type produceResponse struct {
	KeySchemaID   *int     `json:"key_schema_id"`
	ValueSchemaID *int     `json:"value_schema_id"`
	Offsets       []offset `json:"offsets"`
}

// embedded is the embedded format a v2 content type names.
func embedded(r *http.Request) (string, *Error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mt = ""
	}
	switch mt {
	case "application/vnd.kafka.avro.v2+json":
		return "avro", nil
	case "application/vnd.kafka.json.v2+json":
		return "json", nil
	case "application/vnd.kafka.binary.v2+json":
		return "binary", nil
	}
	return "", errorf(CodeUnsupportedMedia, "HTTP 415 Unsupported Media Type: %q; want application/vnd.kafka.{avro,json,binary}.v2+json", r.Header.Get("Content-Type"))
}

func (p *Proxy) produce(r *http.Request) (int, any, *Error) {
	topic := r.PathValue("topic")
	format, e := embedded(r)
	if e != nil {
		return 0, nil, e
	}
	if e := p.permit(r, topic); e != nil {
		return 0, nil, e
	}
	var req produceRequest
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&req); err != nil {
		return 0, nil, errorf(CodeBadRequest, "request body: %v", err)
	}
	if len(req.Records) == 0 {
		return 0, nil, errorf(CodeBadRequest, "request body: no records")
	}
	if ps := r.PathValue("partition"); ps != "" {
		var part int32
		if _, err := fmt.Sscan(ps, &part); err != nil {
			return 0, nil, errorf(CodePartitionNotFound, "Partition not found: %q", ps)
		}
		for i := range req.Records {
			req.Records[i].Partition = &part
		}
	}
	partitions, e := p.partitions(r.Context(), topic)
	if e != nil {
		return 0, nil, e
	}
	resp := produceResponse{Offsets: make([]offset, len(req.Records))}
	var keyCodec, valueCodec *goavro.Codec
	var keyID, valueID int
	if format == "avro" {
		hasKeys := slices.ContainsFunc(req.Records, func(rec produceRecord) bool { return len(rec.Key) > 0 && string(rec.Key) != "null" })
		if hasKeys {
			if req.KeySchema == "" && req.KeySchemaID == nil {
				return 0, nil, errorf(CodeKeySchemaMissing, "Request includes keys and uses a format that requires schemas, but does not include the key_schema or key_schema_id fields")
			}
			if keyID, keyCodec, e = p.schema(r.Context(), topic+"-key", req.KeySchema, req.KeySchemaID); e != nil {
				return 0, nil, e
			}
			resp.KeySchemaID = &keyID
		}
		if req.ValueSchema == "" && req.ValueSchemaID == nil {
			return 0, nil, errorf(CodeValueSchemaMissing, "Request includes values and uses a format that requires schemas, but does not include the value_schema or value_schema_id fields")
		}
		if valueID, valueCodec, e = p.schema(r.Context(), topic+"-value", req.ValueSchema, req.ValueSchemaID); e != nil {
			return 0, nil, e
		}
		resp.ValueSchemaID = &valueID
	}
	recs := make([]*kgo.Record, len(req.Records))
	for i, rec := range req.Records {
		kr := &kgo.Record{Topic: topic}
		var err error
		if kr.Key, err = encode(format, rec.Key, keyCodec, keyID); err != nil {
			return 0, nil, errorf(CodeJSONAvroConversion, "Conversion of JSON to Avro failed: record %d key: %v", i, err)
		}
		if kr.Value, err = encode(format, rec.Value, valueCodec, valueID); err != nil {
			return 0, nil, errorf(CodeJSONAvroConversion, "Conversion of JSON to Avro failed: record %d value: %v", i, err)
		}
		if rec.Partition != nil {
			if *rec.Partition < 0 || *rec.Partition >= partitions {
				return 0, nil, errorf(CodePartitionNotFound, "Partition not found: topic %q has %d partitions, record %d asks for %d", topic, partitions, i, *rec.Partition)
			}
			kr.Context = context.WithValue(r.Context(), partitionKey{}, *rec.Partition)
		}
		recs[i] = kr
	}
	results := p.kafka.ProduceSync(r.Context(), recs...)
	for i, res := range results {
		o := &resp.Offsets[i]
		if res.Err != nil {
			code, msg := 1, res.Err.Error()
			if kerr.IsRetriable(res.Err) {
				code = 2
			}
			o.ErrorCode, o.Error = &code, &msg
			continue
		}
		part, off := res.Record.Partition, res.Record.Offset
		o.Partition, o.Offset = &part, &off
		p.Stats.Records.Add(1)
	}
	return http.StatusOK, resp, nil
}

// encode turns one JSON key or value into record bytes.
func encode(format string, raw json.RawMessage, codec *goavro.Codec, id int) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch format {
	case "json":
		return []byte(raw), nil
	case "binary":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("binary data must be a base64 string: %w", err)
		}
		return base64.StdEncoding.DecodeString(s)
	}
	native, _, err := codec.NativeFromTextual(raw)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 5, 5+len(raw))
	binary.BigEndian.PutUint32(out[1:], uint32(id))
	return codec.BinaryFromNative(out, native)
}

// schema registers schema under subject (or looks id up) and returns its
// id and codec.
func (p *Proxy) schema(ctx context.Context, subject, schema string, id *int) (int, *goavro.Codec, *Error) {
	if p.reg == nil {
		return 0, nil, errorf(CodeSchemaRegistry, "no schema registry configured")
	}
	if id != nil {
		p.mu.Lock()
		c := p.codecs[*id]
		p.mu.Unlock()
		if c != nil {
			return *id, c, nil
		}
		s, err := p.reg.SchemaByID(ctx, *id)
		if err != nil {
			var re *sr.ResponseError
			if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
				return 0, nil, errorf(CodeInvalidSchema, "Invalid schema: schema id %d not found", *id)
			}
			return 0, nil, errorf(CodeSchemaRegistry, "Schema registry: %v", err)
		}
		schema = s.Schema
	} else {
		if _, err := goavro.NewCodec(schema); err != nil {
			return 0, nil, errorf(CodeInvalidSchema, "Invalid schema: %v", err)
		}
		ss, err := p.reg.CreateSchema(ctx, subject, sr.Schema{Schema: schema, Type: sr.TypeAvro})
		if err != nil {
			var re *sr.ResponseError
			if errors.As(err, &re) && re.StatusCode/100 == 4 {
				return 0, nil, errorf(CodeInvalidSchema, "Invalid schema: registering under %q: %s", subject, re.Message)
			}
			return 0, nil, errorf(CodeSchemaRegistry, "Schema registry: %v", err)
		}
		id = &ss.ID
	}
	c, err := goavro.NewCodec(schema)
	if err != nil {
		return 0, nil, errorf(CodeInvalidSchema, "Invalid schema: id %d: %v", *id, err)
	}
	p.mu.Lock()
	p.codecs[*id] = c
	p.mu.Unlock()
	return *id, c, nil
}

// partitions is the topic's partition count; a missing topic is 40401.
func (p *Proxy) partitions(ctx context.Context, topic string) (int32, *Error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	md, err := p.adm.Metadata(ctx, topic)
	if err != nil {
		return 0, errorf(CodeKafkaRetriable, "Kafka: %v", err)
	}
	td, ok := md.Topics[topic]
	if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
		return 0, errorf(CodeTopicNotFound, "Topic not found: %q", topic)
	}
	if td.Err != nil {
		return 0, errorf(CodeKafkaRetriable, "Kafka: topic %q: %v", topic, td.Err)
	}
	return int32(len(td.Partitions)), nil
}

func (p *Proxy) listTopics(r *http.Request) (int, any, *Error) {
	td, err := p.adm.ListTopics(r.Context())
	if err != nil {
		return 0, nil, errorf(CodeKafkaRetriable, "Kafka: %v", err)
	}
	names := []string{}
	for _, t := range td.Sorted() {
		if !t.IsInternal {
			names = append(names, t.Topic)
		}
	}
	return http.StatusOK, names, nil
}

func (p *Proxy) getTopic(r *http.Request) (int, any, *Error) {
	topic := r.PathValue("topic")
	n, e := p.partitions(r.Context(), topic)
	if e != nil {
		return 0, nil, e
	}
	parts := make([]map[string]any, n)
	for i := range parts {
		parts[i] = map[string]any{"partition": i}
	}
	return http.StatusOK, map[string]any{"name": topic, "configs": map[string]string{}, "partitions": parts}, nil
}

// clusterID is the cluster's id as Kafka reports it.
func (p *Proxy) clusterID(ctx context.Context) (string, *Error) {
	md, err := p.adm.BrokerMetadata(ctx)
	if err != nil {
		return "", errorf(CodeKafkaRetriable, "Kafka: %v", err)
	}
	return md.Cluster, nil
}

func (p *Proxy) cluster(r *http.Request) (string, *Error) {
	id, e := p.clusterID(r.Context())
	if e != nil {
		return "", e
	}
	if want := r.PathValue("cluster"); want != "" && want != id {
		return "", errorf(CodeClusterNotFound, "Cluster %s cannot be found.", want)
	}
	return id, nil
}

func (p *Proxy) clusterData(id string) map[string]any {
	return map[string]any{"kind": "KafkaCluster", "metadata": map[string]any{"self": "/v3/clusters/" + id}, "cluster_id": id,
		"topics": map[string]any{"related": "/v3/clusters/" + id + "/topics"}}
}

func (p *Proxy) listClusters(r *http.Request) (int, any, *Error) {
	id, e := p.cluster(r)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"kind": "KafkaClusterList", "metadata": map[string]any{"self": "/v3/clusters"}, "data": []any{p.clusterData(id)}}, nil
}

func (p *Proxy) getCluster(r *http.Request) (int, any, *Error) {
	id, e := p.cluster(r)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, p.clusterData(id), nil
}

func topicData(cluster, name string, partitions int32, rf int16) map[string]any {
	return map[string]any{"kind": "KafkaTopic", "metadata": map[string]any{"self": "/v3/clusters/" + cluster + "/topics/" + name},
		"cluster_id": cluster, "topic_name": name, "is_internal": false, "replication_factor": rf, "partitions_count": partitions}
}

func (p *Proxy) v3ListTopics(r *http.Request) (int, any, *Error) {
	id, e := p.cluster(r)
	if e != nil {
		return 0, nil, e
	}
	td, err := p.adm.ListTopics(r.Context())
	if err != nil {
		return 0, nil, errorf(CodeKafkaRetriable, "Kafka: %v", err)
	}
	data := []any{}
	for _, t := range td.Sorted() {
		if !t.IsInternal {
			data = append(data, topicData(id, t.Topic, int32(len(t.Partitions)), int16(t.Partitions.NumReplicas())))
		}
	}
	return http.StatusOK, map[string]any{"kind": "KafkaTopicList", "metadata": map[string]any{"self": "/v3/clusters/" + id + "/topics"}, "data": data}, nil
}

func (p *Proxy) createTopic(r *http.Request) (int, any, *Error) {
	id, e := p.cluster(r)
	if e != nil {
		return 0, nil, e
	}
	var req struct {
		Name              string `json:"topic_name"`
		Partitions        *int32 `json:"partitions_count"`
		ReplicationFactor *int16 `json:"replication_factor"`
		Configs           []struct {
			Name  string  `json:"name"`
			Value *string `json:"value"`
		} `json:"configs"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return 0, nil, errorf(CodeBadRequest, "request body: %v", err)
	}
	if req.Name == "" {
		return 0, nil, errorf(CodeBadRequest, "request body: topic_name is required")
	}
	if e := p.permit(r, req.Name); e != nil {
		return 0, nil, e
	}
	parts, rf := p.cfg.Partitions, p.cfg.ReplicationFactor
	if parts == 0 {
		parts = 1
	}
	if rf == 0 {
		rf = -1
	}
	if req.Partitions != nil {
		parts = *req.Partitions
	}
	if req.ReplicationFactor != nil {
		rf = *req.ReplicationFactor
	}
	configs := map[string]*string{}
	for _, c := range req.Configs {
		configs[c.Name] = c.Value
	}
	res, err := p.adm.CreateTopic(r.Context(), parts, rf, configs, req.Name)
	if err == nil {
		err = res.Err
	}
	switch {
	case errors.Is(err, kerr.TopicAlreadyExists):
		return 0, nil, errorf(CodeTopicExists, "Topic '%s' already exists.", req.Name)
	case err != nil:
		var ke *kerr.Error
		if errors.As(err, &ke) && !ke.Retriable {
			return 0, nil, errorf(CodeBadRequest, "Kafka: %v", err)
		}
		return 0, nil, errorf(CodeKafkaRetriable, "Kafka: %v", err)
	}
	if rf < 0 {
		rf = res.ReplicationFactor
	}
	return http.StatusCreated, topicData(id, req.Name, parts, rf), nil
}

func (p *Proxy) deleteTopic(r *http.Request) (int, any, *Error) {
	if _, e := p.cluster(r); e != nil {
		return 0, nil, e
	}
	topic := r.PathValue("topic")
	if e := p.permit(r, topic); e != nil {
		return 0, nil, e
	}
	res, err := p.adm.DeleteTopic(r.Context(), topic)
	if err == nil {
		err = res.Err
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return 0, nil, errorf(CodeTopicNotFound, "This server does not host this topic-partition.")
	}
	if err != nil {
		return 0, nil, errorf(CodeKafkaRetriable, "Kafka: %v", err)
	}
	return http.StatusNoContent, nil, nil
}
