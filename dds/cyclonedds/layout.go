package cyclonedds

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/lsst-ts/teststand/sal"
)

// Cyclone DDS 0.10 serializer opcodes (dds/ddsc/dds_opcodes.h). The cgo
// test checks each against the C header.
const (
	opRTS = 0x00 << 24
	opADR = 0x01 << 24
	opKOF = 0x07 << 24

	val1BY = 0x01
	val2BY = 0x02
	val4BY = 0x03
	val8BY = 0x04
	valSTR = 0x05
	valBST = 0x06
	valARR = 0x08
	valBLN = 0x0e

	flagKEY = 1 << 0
	flagFP  = 1 << 1
	flagSGN = 1 << 2
	flagMU  = 1 << 3

	topicFixedKey      = 1 << 1
	topicFixedKeyXCDR2 = 1 << 5
)

// identityBound and revCodeBound are ts_sal's bounds of private_identity
// and private_revCode (add_private_idl in ts_sal's streamutils).
const (
	identityBound = 128
	revCodeBound  = 8
)

// Member is one member of a topic's IDL struct, placed as a C compiler
// places it.
type Member struct {
	// Name is the member's (and the SAL field's) name.
	Name string
	// IDL is the member's IDL type ("long", "unsigned short", "string<8>",
	// "string").
	IDL string
	// Count is 1 for a scalar, else the length of the fixed array.
	Count int
	// Bound is a bounded string's maximum length, 0 for anything else.
	Bound int
	// Key marks salIndex of an indexed CSC's topics.
	Key bool
	// Field is the member's position in the SAL topic's Fields.
	Field int
	// Offset is the member's offset in the C struct.
	Offset int

	val, flags   uint32
	size, align  int // one element
	unboundedStr bool
}

// Layout is the C layout of a SAL topic's DDS-era IDL struct: salIndex
// first (the key) for indexed CSCs, then private_revCode (string<8>),
// private_sndStamp, private_rcvStamp, private_seqNum, private_identity
// (string<128>), private_origin, then the topic's items in ts_xml order
// (strings with IDL_Size > 1 bounded, Count > 1 fixed arrays). The Kafka-era
// private fields (private_efdStamp, private_kafkaStamp) are not in it.
type Layout struct {
	Topic   *sal.Topic
	Members []Member
	// Size and Align are the struct's sizeof and alignof.
	Size, Align int
	// Revcode is the revision code in the topic and type names.
	Revcode string
}

// scalar is an IDL scalar's serializer type, flags and C size.
type scalar struct {
	val, flags uint32
	size       int
}

var scalars = map[string]scalar{
	"boolean":            {valBLN, 0, 1},
	"byte":               {val1BY, 0, 1},
	"octet":              {val1BY, 0, 1},
	"char":               {val1BY, 0, 1},
	"short":              {val2BY, flagSGN, 2},
	"unsigned short":     {val2BY, 0, 2},
	"int":                {val4BY, flagSGN, 4},
	"long":               {val4BY, flagSGN, 4},
	"unsigned int":       {val4BY, 0, 4},
	"unsigned long":      {val4BY, 0, 4},
	"long long":          {val8BY, flagSGN, 8},
	"unsigned long long": {val8BY, 0, 8},
	"float":              {val4BY, flagFP, 4},
	"double":             {val8BY, flagFP, 8},
}

// idlNames are the IDL spellings SAL writes for ts_xml's types.
var idlNames = map[string]string{"byte": "octet", "int": "long", "unsigned int": "unsigned long"}

// NewLayout lays out t's IDL struct. Topics defined by .avsc files (the
// Kafka-era camera CSCs) have no DDS-era IDL and are refused.
func NewLayout(t *sal.Topic) (*Layout, error) {
	if t.Avsc {
		return nil, fmt.Errorf("%s %s: defined by an .avsc file, it has no DDS-era IDL", t.CSC, t.Name)
	}
	l := &Layout{Topic: t, Align: 1}
	add := func(name, idl string, count, bound int, key bool) error {
		i := t.FieldIndex(name)
		if i < 0 {
			return fmt.Errorf("%s %s: no field %s", t.CSC, t.Name, name)
		}
		m := Member{Name: name, Count: max(count, 1), Key: key, Field: i}
		if idl == "string" {
			if bound > 1 {
				m.IDL, m.Bound, m.val, m.size, m.align = fmt.Sprintf("string<%d>", bound), bound, valBST, bound+1, 1
			} else {
				m.IDL, m.val, m.size, m.align, m.unboundedStr = "string", valSTR, 8, 8, true
			}
			m.Count = 1
		} else {
			s, ok := scalars[idl]
			if !ok {
				return fmt.Errorf("%s %s field %s: IDL type %q has no DDS mapping", t.CSC, t.Name, name, idl)
			}
			m.IDL, m.val, m.flags, m.size, m.align = idl, s.val, s.flags, s.size, s.size
			if n, ok := idlNames[idl]; ok {
				m.IDL = n
			}
		}
		off := (l.Size + m.align - 1) / m.align * m.align
		m.Offset = off
		l.Size = off + m.size*m.Count
		l.Align = max(l.Align, m.align)
		l.Members = append(l.Members, m)
		return nil
	}
	if t.Indexed {
		if err := add("salIndex", "long", 1, 0, true); err != nil {
			return nil, err
		}
	}
	for _, p := range []struct {
		name, idl string
		bound     int
	}{
		{"private_revCode", "string", revCodeBound},
		{"private_sndStamp", "double", 0},
		{"private_rcvStamp", "double", 0},
		{"private_seqNum", "long", 0},
		{"private_identity", "string", identityBound},
		{"private_origin", "long", 0},
	} {
		if err := add(p.name, p.idl, 1, p.bound, false); err != nil {
			return nil, err
		}
	}
	for _, f := range t.Fields {
		if f.Private {
			continue
		}
		if err := add(f.Name, strings.TrimSpace(f.IDLType), f.Count, f.IDLSize, false); err != nil {
			return nil, err
		}
	}
	l.Size = (l.Size + l.Align - 1) / l.Align * l.Align
	l.Revcode = Revcode(l.idl(""))
	return l, nil
}

// WithRevcode is the layout under another revision code (one learned from
// a publication on the domain).
func (l *Layout) WithRevcode(rev string) *Layout {
	c := *l
	c.Revcode = rev
	return &c
}

// TopicName is the DDS topic name, "<CSC>_<sal_name>_<revcode>".
func (l *Layout) TopicName() string { return l.Topic.CSC + "_" + l.Topic.Name + "_" + l.Revcode }

// TypeName is the DDS type name, "<CSC>::<sal_name>_<revcode>".
func (l *Layout) TypeName() string { return l.Topic.CSC + "::" + l.Topic.Name + "_" + l.Revcode }

// IDL is the topic's IDL module, its struct named "<sal_name>_<revcode>".
func (l *Layout) IDL() string { return l.idl("_" + l.Revcode) }

func (l *Layout) idl(suffix string) string {
	var b strings.Builder
	name := l.Topic.Name + suffix
	fmt.Fprintf(&b, "module %s {\n  struct %s {\n", l.Topic.CSC, name)
	for _, m := range l.Members {
		arr := ""
		if m.Count > 1 {
			arr = fmt.Sprintf("[%d]", m.Count)
		}
		fmt.Fprintf(&b, "    %s %s%s;\n", m.IDL, m.Name, arr)
	}
	b.WriteString("  };\n")
	if l.Topic.Indexed {
		fmt.Fprintf(&b, "  #pragma keylist %s salIndex\n", name)
	}
	b.WriteString("};\n")
	return b.String()
}

// Revcode is the revision code mocksal's writers use: the first 8 hex
// digits of the MD5 of the topic's IDL module as IDL() writes it with the
// struct named plain "<sal_name>". SAL computes its revcodes the same way
// from IDL of its own generation, whose text differs, so a stand's writers
// and real SAL components of the same interface carry different revcodes,
// as two SAL builds of different XML do; readers learn them from the
// domain.
func Revcode(idl string) string {
	sum := md5.Sum([]byte(idl))
	return hex.EncodeToString(sum[:])[:8]
}

// ParseTypeName splits a DDS-era type name "<CSC>::<sal_name>_<revcode>".
func ParseTypeName(typeName string) (csc, name, rev string, ok bool) {
	csc, rest, ok := strings.Cut(typeName, "::")
	if !ok {
		return "", "", "", false
	}
	i := strings.LastIndexByte(rest, '_')
	if i <= 0 || i == len(rest)-1 {
		return "", "", "", false
	}
	return csc, rest[:i], rest[i+1:], true
}

// Ops is the topic descriptor's serializer program (m_ops), the number of
// its instructions (m_nops), its flag set (m_flagset) and, for a keyed
// topic, the position in ops of the key's KOF instruction (the key
// descriptor's m_offset). It is the program Cyclone's idlc emits for the
// struct IDL() writes.
func (l *Layout) Ops() (ops []uint32, nops int, flagset uint32, keyOp int) {
	keyOp = -1
	keyADR := -1
	for _, m := range l.Members {
		if m.Key {
			keyADR = len(ops)
		}
		var op uint32
		if m.Count > 1 {
			op = opADR | valARR<<16 | m.val<<8 | m.flags
		} else {
			op = opADR | m.val<<16 | m.flags
		}
		if m.Key {
			op |= flagKEY | flagMU
		}
		ops = append(ops, op, uint32(m.Offset))
		switch {
		case m.val == valBST:
			ops = append(ops, uint32(m.Bound+1))
		case m.Count > 1:
			ops = append(ops, uint32(m.Count))
		}
		nops++
	}
	ops = append(ops, opRTS)
	nops++
	if keyADR >= 0 {
		keyOp = len(ops)
		ops = append(ops, opKOF|1, uint32(keyADR))
		flagset = topicFixedKey | topicFixedKeyXCDR2
	}
	return ops, nops, flagset, keyOp
}
