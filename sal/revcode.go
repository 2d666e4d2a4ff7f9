package sal

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"
)

// RevCode is the topic's revcode as Kafka-era SAL computes it (ts_xml's
// TopicInfo.get_revcode, which salobj 8 writes as private_revCode): the
// first 8 hex digits of the MD5 of the Avro schema as Python's
// json.dumps(schema, indent=4) writes it.
func (t *Topic) RevCode() string {
	t.revOnce.Do(func() {
		sum := md5.Sum(pythonIndent([]byte(t.Schema())))
		t.revCode = hex.EncodeToString(sum[:])[:8]
	})
	return t.revCode
}

// pythonIndent rewrites JSON as Python's json.dumps(obj, indent=4) writes
// the object it was loaded from: keys in their order, ", " between items
// on lines of their own, ": " after keys, ASCII only, empty arrays and
// objects as [] and {}.
func pythonIndent(src []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var b bytes.Buffer
	var value func(depth int)
	newline := func(depth int) {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat("    ", depth))
	}
	value = func(depth int) {
		tok, err := dec.Token()
		if err != nil {
			panic(fmt.Sprintf("sal: schema JSON: %v", err)) // Schema writes valid JSON
		}
		switch v := tok.(type) {
		case json.Delim:
			closing := byte(']')
			if v == '{' {
				closing = '}'
			}
			b.WriteByte(byte(v))
			n := 0
			for dec.More() {
				if n > 0 {
					b.WriteByte(',')
				}
				newline(depth + 1)
				if v == '{' {
					k, _ := dec.Token()
					pythonString(&b, k.(string))
					b.WriteString(": ")
				}
				value(depth + 1)
				n++
			}
			dec.Token() // the closing delimiter
			if n > 0 {
				newline(depth)
			}
			b.WriteByte(closing)
		case string:
			pythonString(&b, v)
		case json.Number:
			b.WriteString(v.String())
		case bool:
			fmt.Fprint(&b, v)
		case nil:
			b.WriteString("null")
		}
	}
	value(0)
	return b.Bytes()
}

// pythonString writes s as Python's json.dumps does with ensure_ascii.
func pythonString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r < 0x10000):
			fmt.Fprintf(b, `\u%04x`, r)
		case r >= 0x10000:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
