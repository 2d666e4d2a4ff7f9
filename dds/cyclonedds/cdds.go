//go:build cyclonedds

package cyclonedds

/*
#cgo LDFLAGS: -lddsc
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/lsst-ts/teststand/sal"
)

// ddsErr turns a negative libddsc return code into an error.
func ddsErr(what string, rc C.dds_return_t) error {
	if rc >= 0 {
		return nil
	}
	return fmt.Errorf("cyclonedds: %s: %s", what, C.GoString(C.dds_strretcode(rc)))
}

func kindCode(k sal.Kind) C.int {
	switch k {
	case sal.Event:
		return 1
	case sal.Command:
		return 2
	case sal.Ackcmd:
		return 3
	}
	return 0
}

// descriptor builds l's topic descriptor in C memory.
func descriptor(l *Layout) *C.dds_topic_descriptor_t {
	ops, nops, flagset, keyOp := l.Ops()
	tn := C.CString(l.TypeName())
	defer C.free(unsafe.Pointer(tn))
	var kn *C.char
	if keyOp >= 0 {
		kn = C.CString("salIndex")
		defer C.free(unsafe.Pointer(kn))
	}
	return C.ts_descriptor(C.uint32_t(l.Size), C.uint32_t(l.Align), C.uint32_t(flagset), tn, kn,
		C.uint32_t(max(keyOp, 0)), C.uint32_t(nops), (*C.uint32_t)(unsafe.Pointer(&ops[0])), C.uint32_t(len(ops)))
}

// encode writes s's values into a zeroed C struct of l's layout. The
// returned release frees it and the unbounded strings it points to.
func encode(l *Layout, s *sal.Sample) (unsafe.Pointer, func(), error) {
	p := C.calloc(1, C.size_t(l.Size))
	var strs []unsafe.Pointer
	release := func() {
		for _, q := range strs {
			C.free(q)
		}
		C.free(p)
	}
	for i := range l.Members {
		m := &l.Members[i]
		at := unsafe.Add(p, m.Offset)
		v := s.Values[m.Field]
		if m.Name == "private_revCode" {
			v = l.Revcode
		}
		if m.val == valSTR || m.val == valBST {
			str, _ := v.(string)
			if m.val == valBST {
				if len(str) > m.Bound {
					release()
					return nil, nil, fmt.Errorf("%s %s: %s is %d bytes, its IDL bound %d", l.Topic.CSC, l.Topic.Name, m.Name, len(str), m.Bound)
				}
				copy(unsafe.Slice((*byte)(at), m.Bound+1), str)
				continue
			}
			cs := C.CString(str)
			strs = append(strs, unsafe.Pointer(cs))
			*(**C.char)(at) = cs
			continue
		}
		for j := 0; j < m.Count; j++ {
			if err := put(unsafe.Add(at, j*m.size), m, element(v, j, m.Count)); err != nil {
				release()
				return nil, nil, fmt.Errorf("%s %s: %s: %w", l.Topic.CSC, l.Topic.Name, m.Name, err)
			}
		}
	}
	return p, release, nil
}

// element is item j of a value (the value itself for a scalar).
func element(v any, j, count int) any {
	if count == 1 {
		return v
	}
	switch a := v.(type) {
	case []bool:
		return a[j]
	case []int32:
		return a[j]
	case []int64:
		return a[j]
	case []float32:
		return a[j]
	case []float64:
		return a[j]
	}
	return nil
}

// put stores one scalar in C memory at p as m's IDL type.
func put(p unsafe.Pointer, m *Member, v any) error {
	var i int64
	var f float64
	switch x := v.(type) {
	case bool:
		if m.val != valBLN {
			return fmt.Errorf("bool for IDL %s", m.IDL)
		}
		*(*bool)(p) = x
		return nil
	case int32:
		i, f = int64(x), float64(x)
	case int64:
		i, f = x, float64(x)
	case float32:
		i, f = int64(x), float64(x)
	case float64:
		i, f = int64(x), x
	case nil:
		return nil
	default:
		return fmt.Errorf("%T for IDL %s", v, m.IDL)
	}
	switch {
	case m.val == valBLN:
		*(*bool)(p) = i != 0
	case m.flags&flagFP != 0 && m.val == val4BY:
		*(*float32)(p) = float32(f)
	case m.flags&flagFP != 0:
		*(*float64)(p) = f
	case m.val == val1BY:
		*(*uint8)(p) = uint8(i)
	case m.val == val2BY:
		*(*uint16)(p) = uint16(i)
	case m.val == val4BY:
		*(*uint32)(p) = uint32(i)
	default:
		*(*uint64)(p) = uint64(i)
	}
	return nil
}

// decode reads a C struct of l's layout into a new sample of l's topic.
func decode(l *Layout, p unsafe.Pointer) *sal.Sample {
	s := sal.NewSample(l.Topic)
	for i := range l.Members {
		m := &l.Members[i]
		at := unsafe.Add(p, m.Offset)
		f := &l.Topic.Fields[m.Field]
		switch m.val {
		case valBST:
			b := unsafe.Slice((*byte)(at), m.Bound+1)
			if n := strings.IndexByte(string(b), 0); n >= 0 {
				b = b[:n]
			}
			s.Values[m.Field] = string(b)
			continue
		case valSTR:
			if cs := *(**C.char)(at); cs != nil {
				s.Values[m.Field] = C.GoString(cs)
			} else {
				s.Values[m.Field] = ""
			}
			continue
		}
		if m.Count == 1 {
			s.Values[m.Field] = get(at, m, f.AvroType)
			continue
		}
		arr := s.Values[m.Field]
		for j := 0; j < m.Count; j++ {
			v := get(unsafe.Add(at, j*m.size), m, f.AvroType)
			switch a := arr.(type) {
			case []bool:
				a[j] = v.(bool)
			case []int32:
				a[j] = v.(int32)
			case []int64:
				a[j] = v.(int64)
			case []float32:
				a[j] = v.(float32)
			case []float64:
				a[j] = v.(float64)
			}
		}
	}
	return s
}

// get reads one scalar of m's IDL type at p as the Go type of avroType.
func get(p unsafe.Pointer, m *Member, avroType string) any {
	var i int64
	var f float64
	switch {
	case m.val == valBLN:
		return *(*bool)(p)
	case m.flags&flagFP != 0 && m.val == val4BY:
		f = float64(*(*float32)(p))
		i = int64(f)
	case m.flags&flagFP != 0:
		f = *(*float64)(p)
		i = int64(f)
	case m.val == val1BY && m.flags&flagSGN != 0:
		i = int64(*(*int8)(p))
	case m.val == val1BY:
		i = int64(*(*uint8)(p))
	case m.val == val2BY && m.flags&flagSGN != 0:
		i = int64(*(*int16)(p))
	case m.val == val2BY:
		i = int64(*(*uint16)(p))
	case m.val == val4BY && m.flags&flagSGN != 0:
		i = int64(*(*int32)(p))
	case m.val == val4BY:
		i = int64(*(*uint32)(p))
	case m.flags&flagSGN != 0:
		i = *(*int64)(p)
	default:
		u := *(*uint64)(p)
		if u > math.MaxInt64 {
			u = math.MaxInt64
		}
		i = int64(u)
	}
	if m.flags&flagFP == 0 {
		f = float64(i)
	}
	switch avroType {
	case "boolean":
		return i != 0
	case "int":
		return int32(i)
	case "long":
		return i
	case "float":
		return float32(f)
	}
	return f
}

var errClosed = errors.New("cyclonedds: domain closed")

// cConstants are the C header's values of the opcodes layout.go defines,
// for the test that checks them (cgo is not available in test files).
func cConstants() map[string][2]uint32 {
	return map[string][2]uint32{
		"DDS_OP_RTS":                {opRTS, C.DDS_OP_RTS},
		"DDS_OP_ADR":                {opADR, C.DDS_OP_ADR},
		"DDS_OP_KOF":                {opKOF, C.DDS_OP_KOF},
		"DDS_OP_VAL_1BY":            {val1BY, C.DDS_OP_VAL_1BY},
		"DDS_OP_VAL_2BY":            {val2BY, C.DDS_OP_VAL_2BY},
		"DDS_OP_VAL_4BY":            {val4BY, C.DDS_OP_VAL_4BY},
		"DDS_OP_VAL_8BY":            {val8BY, C.DDS_OP_VAL_8BY},
		"DDS_OP_VAL_STR":            {valSTR, C.DDS_OP_VAL_STR},
		"DDS_OP_VAL_BST":            {valBST, C.DDS_OP_VAL_BST},
		"DDS_OP_VAL_ARR":            {valARR, C.DDS_OP_VAL_ARR},
		"DDS_OP_VAL_BLN":            {valBLN, C.DDS_OP_VAL_BLN},
		"DDS_OP_FLAG_KEY":           {flagKEY, C.DDS_OP_FLAG_KEY},
		"DDS_OP_FLAG_FP":            {flagFP, C.DDS_OP_FLAG_FP},
		"DDS_OP_FLAG_SGN":           {flagSGN, C.DDS_OP_FLAG_SGN},
		"DDS_OP_FLAG_MU":            {flagMU, C.DDS_OP_FLAG_MU},
		"DDS_TOPIC_FIXED_KEY":       {topicFixedKey, C.DDS_TOPIC_FIXED_KEY},
		"DDS_TOPIC_FIXED_KEY_XCDR2": {topicFixedKeyXCDR2, C.DDS_TOPIC_FIXED_KEY_XCDR2},
	}
}

// matched is the number of readers a writer has matched.
func matched(w *writer) int { return int(C.ts_matched(w.entity)) }
