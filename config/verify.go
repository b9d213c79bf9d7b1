package config

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultVerifyInterval is how often serve checks completeness when
// sync.verify_interval is not set.
const DefaultVerifyInterval = 6 * time.Hour

// Interval is a duration in YAML ("6h", "90m") where a bare 0 is also
// accepted, as the off switch of a periodic task.
type Interval time.Duration

// UnmarshalYAML reads a Go duration string or the number 0.
func (i *Interval) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Value == "0" {
		*i = 0
		return nil
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: %q is not a duration such as 6h or 30m (0 turns it off)", n.Line, n.Value)
	}
	*i = Interval(d)
	return nil
}

// VerifyEvery returns sync.verify_interval, its default when unset; 0
// means the periodic check is off.
func (s Sync) VerifyEvery() time.Duration {
	if s.VerifyInterval == nil {
		return DefaultVerifyInterval
	}
	return time.Duration(*s.VerifyInterval)
}
