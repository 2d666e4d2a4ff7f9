package harness

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/harness/observe"
)

// TestUnexpectedPoints shows the check can fail: a point of another
// measurement under a writer's origin, a seqNum no writer wrote and a
// point without SAL's private fields are each named, and the points the
// scenario's writer wrote are not.
func TestUnexpectedPoints(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := Load("../scenarios/sites.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := Up(ctx, st, UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Down(context.WithoutCancel(ctx))
	sc := env.NewScenario(ctx)
	defer sc.Close()
	tr, err := sc.Publish(ctx, PublishSpec{CSC: "ATDome", Topic: "position", RateHz: 50, Count: 10})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sc.WaitDelivered(ctx, tr, observe.Influx("summit", "efd"), 20*time.Second)
	if err != nil || res.Delivered != 10 {
		t.Fatalf("delivered %d of 10 (%v)", res.Delivered, err)
	}
	odd, n, err := env.UnexpectedPoints(ctx, "summit", "efd", nil, 10)
	if err != nil || n != 0 {
		t.Fatalf("a database holding only what was written: %d unexpected %v (%v)", n, odd, err)
	}
	// What a sink decoding with another topic's schema might write.
	now := time.Now().UnixNano()
	lines := strings.Join([]string{
		fmt.Sprintf("lsst.sal.ATDome.logevent_emergencyStop private_origin=%di,private_seqNum=3i %d", tr.Origin, now),
		fmt.Sprintf("lsst.sal.ATDome.position private_origin=%di,private_seqNum=999i %d", tr.Origin, now+1),
		fmt.Sprintf("lsst.sal.Test.arrays value=1 %d", now+2),
	}, "\n")
	url := env.Sites["summit"].InfluxURL + "/write?db=" + env.Database("summit", "efd")
	resp, err := http.Post(url, "text/plain", strings.NewReader(lines))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %s", resp.Status)
	}
	odd, n, err = env.UnexpectedPoints(ctx, "summit", "efd", nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(odd, "\n")
	if n != 3 || !strings.Contains(got, "lsst.sal.ATDome.logevent_emergencyStop private_origin") ||
		!strings.Contains(got, "private_seqNum 999") || !strings.Contains(got, "lsst.sal.Test.arrays: a point without private_origin") {
		t.Fatalf("%d unexpected points:\n%s\nwant the three written by hand", n, got)
	}
	// The USDF's EFD is another database: none of this is there.
	if odd, n, err := env.UnexpectedPoints(ctx, "usdf", "efd", nil, 10); err != nil || n != 0 {
		t.Fatalf("usdf: %d unexpected %v (%v)", n, odd, err)
	}
}
