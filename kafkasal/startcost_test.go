package kafkasal_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/internal/kafkatest"
	"github.com/lsst-ts/teststand/kafkasal"
	"github.com/lsst-ts/teststand/sal"
)

// TestStartCost times starting every CSC of ts_xml (KAFKASAL_TS_XML) as
// one writer's components: every topic created, every schema registered.
func TestStartCost(t *testing.T) {
	dir := os.Getenv("KAFKASAL_TS_XML")
	if dir == "" {
		t.Skip("KAFKASAL_TS_XML is not set")
	}
	ifaces, err := sal.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var comps []*sal.Component
	n := 0
	for _, name := range ifaces.Names() {
		comps = append(comps, ifaces.Component(name))
		n += len(ifaces.Component(name).Topics)
	}
	site := kafkatest.NewSite(t)
	start := time.Now()
	w, err := kafkasal.Open(context.Background(), kafkasal.Config{Brokers: site.Cluster.ListenAddrs(), RegistryURL: site.Registry.URL(), Subname: "sal"}, comps)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d CSCs, %d topics: started in %v", len(comps), n, time.Since(start))
	w.Close(context.Background())
}
