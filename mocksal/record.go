package mocksal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/sal"
)

// RecordingFormat names the recording format written: JSON Lines, one
// JSON object per line, of three kinds.
//
// The header, line 1:
//
//	{"format": "teststand-recording/2", "started": "<RFC 3339>",
//	 "source": "<where the samples were taken>", "from": "<RFC 3339>", "to": "<RFC 3339>"}
//
// started is the instant t counts from; source, from and to (the time
// range asked for) are informational and may be absent.
//
// A schema line, before the first sample that names it:
//
//	{"schema": 1, "csc": "ATDome", "topic": "position",
//	 "subject": "lsst.sal.ATDome.position-value", "avsc": "<the Avro schema's JSON text>"}
//
// schema numbers the schema within the recording (registry ids are per
// registry, so they cannot name it); csc and topic say which SAL topic
// its samples are; subject is the registry subject the samples were
// read under (informational); avsc is the schema text exactly as
// written or fetched.
//
// A sample line, in recording order:
//
//	{"t": 0.25, "schema": 1, "domain": 0, "prefix": "", "avro": "<base64 Avro binary>"}
//
// t is seconds since started; domain and prefix are the DDS domain and
// partition prefix written on (0 and "" for samples taken from Kafka or
// an EFD); avro is the sample's Avro binary under its schema, without the
// Confluent framing.
//
// A recording carries its schemas, so it replays without the registry it
// was taken through and against other interfaces than the ones it was
// made with: samples are decoded with their own schema and mapped onto
// the replaying interfaces' topic of the same CSC and name, field by
// field, and refused when the fields differ.
const RecordingFormat = "teststand-recording/2"

// RecordingFormatV1 is the first format, still read: header
//
//	{"format": "teststand-mocksal-recording/1", "started": "<RFC 3339>"}
//
// then per sample {"t", "domain", "prefix", "csc", "topic", "avro"}, the
// Avro binary under the schema sal builds for the topic, so it replays
// only against interfaces with that very topic.
const RecordingFormatV1 = "teststand-mocksal-recording/1"

// RecordingHeader is the first line of a recording.
type RecordingHeader struct {
	Format  string    `json:"format"`
	Started time.Time `json:"started"`
	// Source says where the samples were taken.
	Source string `json:"source,omitempty"`
	// From and To are the time range asked for, when one was.
	From *time.Time `json:"from,omitempty"`
	To   *time.Time `json:"to,omitempty"`
}

// schemaLine is a recording's schema line.
type schemaLine struct {
	Schema  int    `json:"schema"`
	CSC     string `json:"csc"`
	Topic   string `json:"topic"`
	Subject string `json:"subject"`
	Avsc    string `json:"avsc"`
}

// sampleLine is a sample line of the current format.
type sampleLine struct {
	T      float64 `json:"t"`
	Schema int     `json:"schema"`
	Domain int     `json:"domain"`
	Prefix string  `json:"prefix"`
	Avro   string  `json:"avro"`
}

// v1Sample is a sample line of RecordingFormatV1.
type v1Sample struct {
	T      float64 `json:"t"`
	Domain int     `json:"domain"`
	Prefix string  `json:"prefix"`
	CSC    string  `json:"csc"`
	Topic  string  `json:"topic"`
	Avro   string  `json:"avro"`
}

// RecordingWriter writes a recording of the current format. It is safe
// for concurrent use.
type RecordingWriter struct {
	mu      sync.Mutex
	w       *bufio.Writer
	enc     *json.Encoder
	schemas map[schemaLine]int // by everything but the number
	err     error
	// Samples counts the sample lines written.
	Samples int64
}

// NewRecordingWriter writes the header h (its Format set to
// RecordingFormat) to w and returns a writer of the rest.
func NewRecordingWriter(w io.Writer, h RecordingHeader) (*RecordingWriter, error) {
	bw := bufio.NewWriter(w)
	rw := &RecordingWriter{w: bw, enc: json.NewEncoder(bw), schemas: map[schemaLine]int{}}
	h.Format = RecordingFormat
	h.Started = h.Started.UTC()
	if err := rw.enc.Encode(h); err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	return rw, nil
}

// Schema returns the number of the schema line of (csc, topic, subject,
// avsc), writing that line the first time it is asked for.
func (w *RecordingWriter) Schema(csc, topic, subject, avsc string) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := schemaLine{CSC: csc, Topic: topic, Subject: subject, Avsc: avsc}
	if n, ok := w.schemas[k]; ok {
		return n, nil
	}
	if w.err != nil {
		return 0, w.err
	}
	k.Schema = len(w.schemas) + 1
	if err := w.enc.Encode(k); err != nil {
		w.err = fmt.Errorf("recording: %w", err)
		return 0, w.err
	}
	n := k.Schema
	k.Schema = 0
	w.schemas[k] = n
	return n, nil
}

// Sample writes a sample line: t seconds after the header's started, of
// schema (a number Schema returned), written on domain and prefix.
func (w *RecordingWriter) Sample(t float64, schema, domain int, prefix string, avro []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if schema < 1 || schema > len(w.schemas) {
		return fmt.Errorf("recording: schema %d was not written", schema)
	}
	if err := w.enc.Encode(sampleLine{T: t, Schema: schema, Domain: domain, Prefix: prefix, Avro: base64.StdEncoding.EncodeToString(avro)}); err != nil {
		w.err = fmt.Errorf("recording: %w", err)
		return w.err
	}
	w.Samples++
	return nil
}

// Flush writes out what is buffered.
func (w *RecordingWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.w.Flush(); err != nil && w.err == nil {
		w.err = fmt.Errorf("recording: %w", err)
	}
	return w.err
}

// Recorder writes every sample published on a bus's domains to a
// recording. Attach it with Attach; Close flushes.
type Recorder struct {
	mu      sync.Mutex
	rw      *RecordingWriter
	started time.Time
	buf     []byte
	err     error
	// Samples counts recorded samples.
	Samples int64
}

// NewRecorder starts a recording on w.
func NewRecorder(w io.Writer) (*Recorder, error) {
	started := time.Now().UTC()
	rw, err := NewRecordingWriter(w, RecordingHeader{Started: started, Source: "dds"})
	if err != nil {
		return nil, err
	}
	return &Recorder{rw: rw, started: started}, nil
}

// Attach records the samples written locally on domain of bus.
func (r *Recorder) Attach(bus *dds.Bus, domain int) {
	bus.AddForwarder(domain, func(_ context.Context, prefix string, s *sal.Sample) error {
		return r.record(domain, prefix, s)
	})
}

func (r *Recorder) record(domain int, prefix string, s *sal.Sample) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	t := s.Topic
	schema, err := r.rw.Schema(t.CSC, t.Name, t.Subject(""), t.Schema())
	if err != nil {
		r.err = err
		return err
	}
	if r.buf, err = t.AppendAvro(r.buf[:0], s); err != nil {
		r.err = fmt.Errorf("recording: %w", err)
		return r.err
	}
	if err := r.rw.Sample(time.Since(r.started).Seconds(), schema, domain, prefix, r.buf); err != nil {
		r.err = err
		return err
	}
	r.Samples++
	return nil
}

// Close flushes the recording.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.rw.Flush(); err != nil && r.err == nil {
		r.err = err
	}
	return r.err
}

// RecordingError is a recording that cannot be read: not a recording, of
// an unknown format, corrupt or truncated, or with a sample that does not
// map onto the loaded interfaces. Line is the line at fault.
type RecordingError struct {
	Line int
	Err  error
}

func (e *RecordingError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *RecordingError) Unwrap() error { return e.Err }

// RecordedSample is one sample of a recording, decoded with its schema
// and mapped onto a topic of the loaded interfaces.
type RecordedSample struct {
	// Line is the sample's line in the recording.
	Line int
	// T is seconds since the recording started.
	T float64
	// Domain and Prefix are where it was written (0 and "" when taken
	// from Kafka or an EFD).
	Domain int
	Prefix string
	// Sample holds the values as recorded.
	Sample *sal.Sample
}

// ReadRecording checks a recording's header (RecordingFormat or
// RecordingFormatV1) and calls fn with each sample, in recording order,
// decoded and mapped onto ifaces. What is wrong with the recording comes
// back as a *RecordingError naming the line; fn's errors come back as
// they are.
func ReadRecording(ifaces *sal.Interfaces, r io.Reader, fn func(RecordedSample) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	bad := func(line int, format string, a ...any) error {
		return &RecordingError{Line: line, Err: fmt.Errorf(format, a...)}
	}
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return bad(1, "%w", err)
		}
		return bad(1, "empty recording: no header")
	}
	var head RecordingHeader
	if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
		return bad(1, "not a recording (want a JSON header with \"format\": %q): %w", RecordingFormat, err)
	}
	var next func(line int, b []byte) (RecordedSample, error)
	switch head.Format {
	case RecordingFormat:
		next = (&v2Reader{ifaces: ifaces, schemas: map[int]*carried{}}).sample
	case RecordingFormatV1:
		next = func(line int, b []byte) (RecordedSample, error) { return v1Decode(ifaces, line, b) }
	case "":
		return bad(1, "not a recording: the header has no \"format\" (want %q)", RecordingFormat)
	default:
		return bad(1, "unknown recording format %q (this version reads %s and %s)", head.Format, RecordingFormat, RecordingFormatV1)
	}
	line := 1
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		rs, err := next(line, sc.Bytes())
		if err != nil {
			return err
		}
		if rs.Sample == nil { // a schema line
			continue
		}
		if err := fn(rs); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return bad(line+1, "%w", err)
	}
	return nil
}

// v1Decode decodes a sample line of RecordingFormatV1.
func v1Decode(ifaces *sal.Interfaces, line int, b []byte) (RecordedSample, error) {
	var rs v1Sample
	if err := json.Unmarshal(b, &rs); err != nil {
		return RecordedSample{}, &RecordingError{Line: line, Err: fmt.Errorf("corrupt sample line: %w", err)}
	}
	t := ifaces.Topic(rs.CSC, rs.Topic)
	if t == nil {
		return RecordedSample{}, &RecordingError{Line: line, Err: fmt.Errorf("%s.%s is not in the loaded interfaces", rs.CSC, rs.Topic)}
	}
	data, err := base64.StdEncoding.DecodeString(rs.Avro)
	if err != nil {
		return RecordedSample{}, &RecordingError{Line: line, Err: fmt.Errorf("%s.%s: avro: %w", rs.CSC, rs.Topic, err)}
	}
	s, err := t.DecodeAvro(data)
	if err != nil {
		return RecordedSample{}, &RecordingError{Line: line, Err: err}
	}
	return RecordedSample{Line: line, T: rs.T, Domain: rs.Domain, Prefix: rs.Prefix, Sample: s}, nil
}

// v2Reader reads the lines of RecordingFormat after the header.
type v2Reader struct {
	ifaces  *sal.Interfaces
	schemas map[int]*carried
}

// anyLine holds either kind of line of the current format; which fields
// are present says which kind it is.
type anyLine struct {
	T       *float64 `json:"t"`
	Schema  *int     `json:"schema"`
	Domain  int      `json:"domain"`
	Prefix  string   `json:"prefix"`
	Avro    *string  `json:"avro"`
	CSC     string   `json:"csc"`
	Topic   string   `json:"topic"`
	Subject string   `json:"subject"`
	Avsc    *string  `json:"avsc"`
}

// sample reads one line: a schema line gives a RecordedSample with no
// Sample.
func (r *v2Reader) sample(line int, b []byte) (RecordedSample, error) {
	bad := func(format string, a ...any) (RecordedSample, error) {
		return RecordedSample{}, &RecordingError{Line: line, Err: fmt.Errorf(format, a...)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var l anyLine
	if err := dec.Decode(&l); err != nil {
		return bad("corrupt line: %w", err)
	}
	switch {
	case l.Avsc != nil:
		if l.Schema == nil || l.CSC == "" || l.Topic == "" {
			return bad("a schema line needs \"schema\", \"csc\", \"topic\" and \"avsc\"")
		}
		if l.T != nil || l.Avro != nil {
			return bad("a schema line has no \"t\" or \"avro\"")
		}
		if prev := r.schemas[*l.Schema]; prev != nil {
			return bad("schema %d defined again (first on line %d)", *l.Schema, prev.line)
		}
		r.schemas[*l.Schema] = &carried{line: line, number: *l.Schema, csc: l.CSC, topic: l.Topic, avsc: *l.Avsc}
		return RecordedSample{}, nil
	case l.T != nil && l.Avro != nil && l.Schema != nil:
	default:
		return bad("neither a schema line (\"schema\", \"csc\", \"topic\", \"avsc\") nor a sample line (\"t\", \"schema\", \"avro\")")
	}
	c := r.schemas[*l.Schema]
	if c == nil {
		return bad("schema %d is not defined on an earlier line", *l.Schema)
	}
	if err := c.bind(r.ifaces); err != nil {
		return bad("%s.%s: %w", c.csc, c.topic, err)
	}
	data, err := base64.StdEncoding.DecodeString(*l.Avro)
	if err != nil {
		return bad("%s.%s: avro: %w", c.csc, c.topic, err)
	}
	s, err := c.decode(data)
	if err != nil {
		return bad("%w", err)
	}
	return RecordedSample{Line: line, T: *l.T, Domain: l.Domain, Prefix: l.Prefix, Sample: s}, nil
}

// ReplayConfig says how to replay a recording.
type ReplayConfig struct {
	// Speed is the replay rate: 1 as recorded, 2 twice as fast; 0 as fast
	// as the readers accept.
	Speed float64
	// Domain, when ≥ 0, replaces the recorded domain of every sample.
	Domain int
	// Origin, when non-zero, replaces private_origin.
	Origin int32
	// OriginOf, when set, gives the private_origin of each CSC index's
	// samples instead (one process per CSC index, as SAL runs them), so
	// that a ledger keyed by origin and seqNum never confuses two indices
	// of one topic.
	OriginOf func(csc string, index int32) int32
}

// writerKey is one writer of a replay: a SAL writer numbers its samples
// per topic, and its identity is the CSC index and its process.
type writerKey struct {
	csc, topic string
	index      int32
	origin     int32
}

// Replay writes a recording's samples on bus, keeping their spacing
// (divided by Speed) and every value as recorded except what a writer
// sets afresh:
//
//   - private_sndStamp is the TAI time of the replayed write;
//   - private_rcvStamp, private_efdStamp and private_kafkaStamp are 0, as
//     a writer leaves them (readers, the producer and the EFD set them);
//   - private_origin is cfg.OriginOf(CSC, salIndex), else cfg.Origin,
//     else as recorded;
//   - private_seqNum is renumbered 1, 2, 3, … in recording order per
//     writer, a writer being (CSC, salIndex, topic, private_origin as
//     replayed), as a SAL writer numbers what it writes.
//
// So a replay is fresh traffic that a ledger keyed by origin and seqNum
// per writer checks like any other: a recording taken from Kafka or an
// EFD holds several writers' seqNums (a restarted CSC, background
// traffic), which renumbering makes one sequence without gaps or
// repeats. onWrite (may be nil) sees each replayed sample. It returns the
// number replayed.
func Replay(ctx context.Context, bus *dds.Bus, ifaces *sal.Interfaces, r io.Reader, cfg ReplayConfig, onWrite func(Write)) (int, error) {
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	n := 0
	seqs := map[writerKey]int32{}
	err := ReadRecording(ifaces, r, func(rs RecordedSample) error {
		if cfg.Speed > 0 {
			at := start.Add(time.Duration(rs.T / cfg.Speed * float64(time.Second)))
			if d := time.Until(at); d > 0 {
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		s, t := rs.Sample, rs.Sample.Topic
		domain := rs.Domain
		if cfg.Domain >= 0 {
			domain = cfg.Domain
		}
		idx, _ := s.Get("salIndex").(int32)
		origin, _ := s.Get("private_origin").(int32)
		switch {
		case cfg.OriginOf != nil:
			origin = cfg.OriginOf(t.CSC, idx)
		case cfg.Origin != 0:
			origin = cfg.Origin
		}
		k := writerKey{csc: t.CSC, topic: t.Name, index: idx, origin: origin}
		seqs[k]++
		snd := sal.TAINow()
		fresh := [...]struct {
			name string
			v    any
		}{
			{"private_origin", origin}, {"private_seqNum", seqs[k]}, {"private_sndStamp", snd},
			{"private_rcvStamp", 0.0}, {"private_efdStamp", 0.0}, {"private_kafkaStamp", 0.0},
		}
		for _, f := range fresh {
			if i := t.FieldIndex(f.name); i >= 0 {
				s.Values[i] = f.v
			}
		}
		readers, err := bus.Publish(ctx, domain, rs.Prefix, s)
		if err != nil {
			return fmt.Errorf("line %d: %w", rs.Line, err)
		}
		n++
		if onWrite != nil {
			onWrite(Write{CSC: t.CSC, Topic: t.Name, Index: idx, Identity: fmt.Sprint(s.Get("private_identity")),
				Origin: origin, SeqNum: seqs[k], SndStamp: snd,
				Domain: domain, Intended: time.Now(), Readers: readers, Values: s.Values})
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return n, err
		}
		return n, fmt.Errorf("replay: %w", err)
	}
	if n == 0 {
		return 0, errors.New("replay: the recording holds no sample")
	}
	return n, nil
}

// RecordedTopic is one writer of a recording: a CSC's topic at an index.
type RecordedTopic struct {
	CSC     string
	Index   int32
	Topic   string
	Samples int
}

// String is "CSC[:index].topic".
func (w RecordedTopic) String() string {
	return Identity(w.CSC, w.Index) + "." + w.Topic
}

// RecordingTopics lists the writers of a recording, in the order they
// first appear, without replaying it (a harness starts its taps first);
// it reads the whole recording, so a recording that would fail to replay
// fails here, before anything is written.
func RecordingTopics(ifaces *sal.Interfaces, r io.Reader) ([]RecordedTopic, error) {
	var out []RecordedTopic
	at := map[RecordedTopic]int{}
	err := ReadRecording(ifaces, r, func(rs RecordedSample) error {
		s := rs.Sample
		idx, _ := s.Get("salIndex").(int32)
		k := RecordedTopic{CSC: s.Topic.CSC, Index: idx, Topic: s.Topic.Name}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, k)
		}
		out[i].Samples++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	return out, nil
}

// IsRecording reports whether err comes from a recording that cannot be
// read (bad input), rather than from writing its samples.
func IsRecording(err error) bool {
	var re *RecordingError
	return errors.As(err, &re)
}
