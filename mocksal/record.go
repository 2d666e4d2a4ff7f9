package mocksal

import (
	"bufio"
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

// RecordingFormat names the recording format: JSON Lines, a header line
//
//	{"format": "teststand-mocksal-recording/1", "started": "<RFC 3339>"}
//
// then one line per sample, in write order:
//
//	{"t": <seconds since started>, "domain": 0, "prefix": "", "csc": "ATDome",
//	 "topic": "position", "avro": "<base64 of the sample's Avro binary>"}
//
// The Avro binary is the topic's schema as sal builds it, so a recording
// replays against the same interfaces it was made with.
const RecordingFormat = "teststand-mocksal-recording/1"

type recordingHeader struct {
	Format  string    `json:"format"`
	Started time.Time `json:"started"`
}

type recordedSample struct {
	T      float64 `json:"t"`
	Domain int     `json:"domain"`
	Prefix string  `json:"prefix"`
	CSC    string  `json:"csc"`
	Topic  string  `json:"topic"`
	Avro   string  `json:"avro"`
}

// Recorder writes every sample published on a bus's domains to a
// recording. Attach it with Attach; Close flushes.
type Recorder struct {
	mu      sync.Mutex
	w       *bufio.Writer
	enc     *json.Encoder
	started time.Time
	buf     []byte
	err     error
	// Samples counts recorded samples.
	Samples int64
}

// NewRecorder starts a recording on w.
func NewRecorder(w io.Writer) (*Recorder, error) {
	bw := bufio.NewWriter(w)
	r := &Recorder{w: bw, enc: json.NewEncoder(bw), started: time.Now().UTC()}
	if err := r.enc.Encode(recordingHeader{Format: RecordingFormat, Started: r.started}); err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	return r, nil
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
	var err error
	r.buf, err = s.Topic.AppendAvro(r.buf[:0], s)
	if err != nil {
		r.err = fmt.Errorf("recording: %w", err)
		return r.err
	}
	if err := r.enc.Encode(recordedSample{
		T: time.Since(r.started).Seconds(), Domain: domain, Prefix: prefix, CSC: s.Topic.CSC, Topic: s.Topic.Name,
		Avro: base64.StdEncoding.EncodeToString(r.buf),
	}); err != nil {
		r.err = fmt.Errorf("recording: %w", err)
		return r.err
	}
	r.Samples++
	return nil
}

// Close flushes the recording.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.w.Flush(); err != nil && r.err == nil {
		r.err = fmt.Errorf("recording: %w", err)
	}
	return r.err
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
}

// Replay writes a recording's samples on bus, keeping their spacing
// (divided by Speed). Each sample gets a fresh private_sndStamp at replay
// time, so latencies measured downstream are those of the replay; every
// other field, private_seqNum included, is as recorded. onWrite (may be
// nil) sees each replayed sample. It returns the number replayed.
func Replay(ctx context.Context, bus *dds.Bus, ifaces *sal.Interfaces, r io.Reader, cfg ReplayConfig, onWrite func(Write)) (int, error) {
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	n := 0
	err := readRecording(ifaces, r, func(line int, rs recordedSample, t *sal.Topic, s *sal.Sample) error {
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
		domain := rs.Domain
		if cfg.Domain >= 0 {
			domain = cfg.Domain
		}
		if cfg.Origin != 0 {
			s.Values[t.FieldIndex("private_origin")] = cfg.Origin
		}
		snd := sal.TAINow()
		s.Values[t.FieldIndex("private_sndStamp")] = snd
		readers, err := bus.Publish(ctx, domain, rs.Prefix, s)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		n++
		if onWrite != nil {
			idx, _ := s.Get("salIndex").(int32)
			onWrite(Write{CSC: t.CSC, Topic: t.Name, Index: idx, Identity: fmt.Sprint(s.Get("private_identity")),
				Origin: s.Get("private_origin").(int32), SeqNum: s.Get("private_seqNum").(int32), SndStamp: snd,
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

// RecordingTopics lists the writers of a recording, in the order they
// first appear, without replaying it (a harness starts its taps first).
func RecordingTopics(ifaces *sal.Interfaces, r io.Reader) ([]RecordedTopic, error) {
	var out []RecordedTopic
	at := map[RecordedTopic]int{}
	err := readRecording(ifaces, r, func(_ int, _ recordedSample, t *sal.Topic, s *sal.Sample) error {
		idx, _ := s.Get("salIndex").(int32)
		k := RecordedTopic{CSC: t.CSC, Index: idx, Topic: t.Name}
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

// readRecording checks a recording's header and calls fn with each
// sample decoded against ifaces, in order; errors name the line.
func readRecording(ifaces *sal.Interfaces, r io.Reader, fn func(line int, rs recordedSample, t *sal.Topic, s *sal.Sample) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	if !sc.Scan() {
		return fmt.Errorf("empty recording: %w", sc.Err())
	}
	var head recordingHeader
	if err := json.Unmarshal(sc.Bytes(), &head); err != nil || head.Format != RecordingFormat {
		return fmt.Errorf("line 1: not a %s recording", RecordingFormat)
	}
	line := 1
	for sc.Scan() {
		line++
		var rs recordedSample
		if err := json.Unmarshal(sc.Bytes(), &rs); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		t := ifaces.Topic(rs.CSC, rs.Topic)
		if t == nil {
			return fmt.Errorf("line %d: %s.%s is not in the loaded interfaces", line, rs.CSC, rs.Topic)
		}
		data, err := base64.StdEncoding.DecodeString(rs.Avro)
		if err != nil {
			return fmt.Errorf("line %d: avro: %w", line, err)
		}
		s, err := t.DecodeAvro(data)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if err := fn(line, rs, t, s); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	return nil
}
