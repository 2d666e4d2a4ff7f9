package harness

import (
	"context"
	"strings"
	"testing"

	"github.com/cucumber/godog"
	messages "github.com/cucumber/messages/go/v21"
)

func table(rows ...[]string) *godog.Table {
	t := &godog.Table{}
	for _, r := range rows {
		row := &messages.PickleTableRow{}
		for _, c := range r {
			row.Cells = append(row.Cells, &messages.PickleTableCell{Value: c})
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// TestPublishTableRefusesBadTables: what a table gets wrong is said before
// anything is written.
func TestPublishTableRefusesBadTables(t *testing.T) {
	cases := []struct {
		table *godog.Table
		want  string
	}{
		{table([]string{"CSC", "topic", "rate", "duration"}), "at least one row"},
		{table([]string{"CSC", "topic", "rate"}, []string{"ATDome", "position", "10"}), `no "duration" column`},
		{table([]string{"CSC", "topic", "rate", "duration"}, []string{"ATDome", "position", "ten", "1"}), `row 1: rate "ten"`},
		{table([]string{"CSC", "topic", "rate", "duration"}, []string{"ATDome", "position", "10", "-1"}), `duration "-1"`},
	}
	st := &Steps{}
	for _, c := range cases {
		err := st.publishTable(context.Background(), "0", c.table)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}
