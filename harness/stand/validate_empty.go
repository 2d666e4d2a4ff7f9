package stand

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/lsst-ts/teststand/internal/yamlx"
)

// checkEmptyEntries refuses a list item written with nothing in it
// ("replication:\n-", "environments: [~]"), at any depth: every later
// check expects an entry to be there. (An empty site has its own message,
// in checkSites.)
func (s *Stand) checkEmptyEntries() error {
	return emptyIn(s, reflect.ValueOf(s).Elem(), nil)
}

// emptyIn walks v's fields that come from YAML and refuses a nil item in
// a list of pointers.
func emptyIn(s *Stand, v reflect.Value, at yamlx.Path) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return emptyIn(s, v.Elem(), at)
	case reflect.Slice:
		key := at[len(at)-1]
		for j := 0; j < v.Len(); j++ {
			e := v.Index(j)
			if e.Kind() == reflect.Pointer && e.IsNil() {
				return fmt.Errorf("%s: %v: item %d is empty", s.where(append(append(yamlx.Path{}, at...), j)), key, j+1)
			}
			if err := emptyIn(s, e, append(append(yamlx.Path{}, at...), j)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(a, b int) bool { return keys[a].String() < keys[b].String() })
		for _, k := range keys {
			if err := emptyIn(s, v.MapIndex(k), append(append(yamlx.Path{}, at...), k.String())); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if key == "" || key == "-" || !t.Field(i).IsExported() {
				continue
			}
			if err := emptyIn(s, v.Field(i), append(append(yamlx.Path{}, at...), key)); err != nil {
				return err
			}
		}
	}
	return nil
}
