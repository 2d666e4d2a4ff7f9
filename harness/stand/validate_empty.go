package stand

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/lsst-ts/teststand/internal/yamlx"
)

// checkEmptyEntries refuses a list item written with nothing in it
// ("replication:\n-"): every later check expects an entry to be there.
// (An empty site has its own message, in checkSites.)
func (s *Stand) checkEmptyEntries() error {
	if err := emptyIn(s, reflect.ValueOf(s).Elem(), nil); err != nil {
		return err
	}
	names := make([]string, 0, len(s.Sites))
	for n := range s.Sites {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if site := s.Sites[n]; site != nil {
			if err := emptyIn(s, reflect.ValueOf(site).Elem(), yamlx.Path{"sites", n}); err != nil {
				return err
			}
		}
	}
	return nil
}

// emptyIn checks the pointer lists among v's fields.
func emptyIn(s *Stand, v reflect.Value, at yamlx.Path) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		f := v.Field(i)
		if key == "" || key == "-" || f.Kind() != reflect.Slice || f.Type().Elem().Kind() != reflect.Pointer {
			continue
		}
		for j := 0; j < f.Len(); j++ {
			if f.Index(j).IsNil() {
				return fmt.Errorf("%s: %s: item %d is empty", s.where(append(append(yamlx.Path{}, at...), key, j)), key, j+1)
			}
		}
	}
	return nil
}
