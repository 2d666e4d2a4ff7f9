package harness

// Steps of a secured stand: what each component's Kafka user may do.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

func (st *Steps) userMay(ctx context.Context, user, may, op, topic, site string) error {
	err := st.Env.TryAs(ctx, user, op, topic, site)
	refused := errors.Is(err, kerr.TopicAuthorizationFailed)
	switch {
	case may == "may" && err != nil:
		return fmt.Errorf("the %s user may not %s topic %s at %s: %w", user, op, topic, site, err)
	case may == "may not" && err == nil:
		return fmt.Errorf("the %s user was allowed to %s topic %s at %s: its ACLs grant more than this scenario says", user, op, topic, site)
	case may == "may not" && !refused:
		return fmt.Errorf("the %s user's %s of topic %s at %s failed, but not for want of authorization: %w", user, op, topic, site, err)
	}
	return nil
}

func (st *Steps) influxAnonymousRefused(ctx context.Context, site string) error {
	answered, err := st.Env.TryInfluxAnonymous(ctx, site)
	switch {
	case err != nil:
		return fmt.Errorf("the InfluxDB at %s: a client without credentials failed, but not for want of them: %w", site, err)
	case len(answered) > 0 && st.Env.sec == nil:
		return fmt.Errorf("the InfluxDB at %s answered a client without credentials (%s): the stand is not secured (no security: block), its InfluxDB takes every client", site, strings.Join(answered, ", "))
	case len(answered) > 0:
		return fmt.Errorf("the InfluxDB at %s answered a client without credentials (%s): its authentication is off", site, strings.Join(answered, ", "))
	}
	return nil
}

func (st *Steps) anonymousRefused(ctx context.Context, site string) error {
	if err := st.Env.TryAnonymous(ctx, site); err == nil {
		return fmt.Errorf("the Kafka at %s answered a client without credentials", site)
	}
	return nil
}
