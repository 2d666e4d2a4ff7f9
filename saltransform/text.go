package saltransform

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lsst-ts/teststand/sal"
)

// InputTopic is the text topic a SAL topic's messages arrive on:
// "<CSC>_telemetry", "<CSC>_event" (events) or "<CSC>_command" (commands
// and ackcmd).
func InputTopic(t *sal.Topic) string {
	switch t.Kind {
	case sal.Telemetry:
		return t.CSC + "_telemetry"
	case sal.Event:
		return t.CSC + "_event"
	}
	return t.CSC + "_command"
}

// InputTopics are a CSC's three text topics.
func InputTopics(csc string) []string {
	return []string{csc + "_telemetry", csc + "_event", csc + "_command"}
}

// OutputTopic is the Avro topic a SAL topic's messages are produced to:
// "lsst.sal.<CSC>_<sal_name>".
func OutputTopic(t *sal.Topic) string { return "lsst.sal." + t.CSC + "_" + t.Name }

// preamble are the private fields the text carries first, in order.
var preamble = []string{"private_revCode", "private_sndStamp", "private_rcvStamp", "private_seqNum", "private_identity", "private_origin"}

// textFields are the topic's fields in text order: the preamble, salIndex
// for an indexed CSC, then the ts_xml items.
func textFields(t *sal.Topic) []int {
	out := make([]int, 0, len(t.Fields))
	for _, n := range preamble {
		out = append(out, t.FieldIndex(n))
	}
	if i := t.FieldIndex("salIndex"); i >= 0 {
		out = append(out, i)
	}
	for i, f := range t.Fields {
		if f.Name != "salIndex" && !strings.HasPrefix(f.Name, "private_") {
			out = append(out, i)
		}
	}
	return out
}

// Format writes a sample as one line of SAL text.
func Format(s *sal.Sample) string {
	t := s.Topic
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s_%s:( ", t.CSC, t.CSC, t.Name)
	first := true
	put := func(v string) {
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(v)
	}
	for _, i := range textFields(t) {
		switch v := s.Values[i].(type) {
		case []bool:
			for _, x := range v {
				put(scalar(x))
			}
		case []int32:
			for _, x := range v {
				put(scalar(x))
			}
		case []int64:
			for _, x := range v {
				put(scalar(x))
			}
		case []float32:
			for _, x := range v {
				put(scalar(x))
			}
		case []float64:
			for _, x := range v {
				put(scalar(x))
			}
		default:
			put(scalar(v))
		}
	}
	b.WriteString(" )")
	return b.String()
}

func scalar(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "1"
		}
		return "0"
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float32:
		return formatFloat(float64(x), 32)
	case float64:
		return formatFloat(x, 64)
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case nil: // a nullable field's null, as the tuple's Python spells it
		return "None"
	}
	return fmt.Sprint(v)
}

func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// ParseError says where a line is wrong.
type ParseError struct {
	// Field is the field whose value could not be read ("" for the
	// preamble or the line's shape).
	Field string
	Err   error
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("field %s: %v", e.Field, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads one line of SAL text into a sample of its topic.
func Parse(ifs *sal.Interfaces, line string) (*sal.Sample, error) {
	line = strings.TrimSpace(line)
	head, body, ok := strings.Cut(line, ":(")
	if !ok || !strings.HasSuffix(body, ")") {
		return nil, &ParseError{Err: fmt.Errorf("not SAL text: want `<CSC> <CSC>_<topic>:( ... )`, have %q", clip(line))}
	}
	csc, name, ok := strings.Cut(strings.TrimSpace(head), " ")
	if !ok {
		return nil, &ParseError{Err: fmt.Errorf("preamble %q: want `<CSC> <CSC>_<topic>`", head)}
	}
	salName, ok := strings.CutPrefix(name, csc+"_")
	if !ok {
		return nil, &ParseError{Err: fmt.Errorf("preamble %q: topic %q does not start with %s_", head, name, csc)}
	}
	t := ifs.Topic(csc, salName)
	if t == nil {
		return nil, &ParseError{Err: fmt.Errorf("no SAL topic %s.%s in the interfaces", csc, salName)}
	}
	values, err := split(strings.TrimSuffix(body, ")"))
	if err != nil {
		return nil, &ParseError{Err: err}
	}
	s := sal.NewSample(t)
	k := 0
	next := func(f *sal.Field) (string, error) {
		if k >= len(values) {
			return "", fmt.Errorf("the line ends after %d values", len(values))
		}
		k++
		return values[k-1], nil
	}
	for _, i := range textFields(t) {
		f := &t.Fields[i]
		if f.IsArray() {
			arr := s.Values[i]
			for j := range f.Count {
				v, err := next(f)
				if err == nil {
					err = setItem(arr, j, f.AvroType, v)
				}
				if err != nil {
					return nil, &ParseError{Field: fmt.Sprintf("%s[%d]", f.Name, j), Err: err}
				}
			}
			continue
		}
		v, err := next(f)
		switch {
		case err != nil:
		case f.Nullable && v == "None":
			s.Values[i] = nil
		default:
			s.Values[i], err = parseScalar(f.AvroType, v)
		}
		if err != nil {
			return nil, &ParseError{Field: f.Name, Err: err}
		}
	}
	if k != len(values) {
		return nil, &ParseError{Err: fmt.Errorf("%s.%s has %d values, the line %d", csc, salName, k, len(values))}
	}
	return s, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// split cuts the tuple at commas outside quotes; quoted values keep their
// quotes (parseScalar reads them).
func split(body string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inQuote := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\'' && inQuote && i+1 < len(body) && body[i+1] == '\'':
			cur.WriteString("''")
			i++
		case c == '\'':
			inQuote = !inQuote
			cur.WriteByte(c)
		case c == ',' && !inQuote:
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if inQuote {
		return nil, fmt.Errorf("a quoted string is not closed")
	}
	if last := strings.TrimSpace(cur.String()); last != "" || len(out) > 0 {
		out = append(out, last)
	}
	return out, nil
}

func parseScalar(avroType, v string) (any, error) {
	switch avroType {
	case "boolean":
		switch v {
		case "0", "false":
			return false, nil
		case "1", "true":
			return true, nil
		}
		return nil, fmt.Errorf("%q is not a boolean (0 or 1)", v)
	case "int":
		n, err := strconv.ParseInt(v, 10, 32)
		return int32(n), err
	case "long":
		return strconv.ParseInt(v, 10, 64)
	case "float":
		f, err := strconv.ParseFloat(v, 32)
		return float32(f), err
	case "double":
		return strconv.ParseFloat(v, 64)
	case "string":
		if len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
			return nil, fmt.Errorf("%q is not a quoted string", v)
		}
		return strings.ReplaceAll(v[1:len(v)-1], "''", "'"), nil
	}
	return nil, fmt.Errorf("unknown Avro type %q", avroType)
}

func setItem(arr any, j int, avroType, v string) error {
	x, err := parseScalar(avroType, v)
	if err != nil {
		return err
	}
	switch a := arr.(type) {
	case []bool:
		a[j] = x.(bool)
	case []int32:
		a[j] = x.(int32)
	case []int64:
		a[j] = x.(int64)
	case []float32:
		a[j] = x.(float32)
	case []float64:
		a[j] = x.(float64)
	default:
		return fmt.Errorf("array of %T", arr)
	}
	return nil
}
