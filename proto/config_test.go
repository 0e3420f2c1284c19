package proto

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rumorhq/rumor/proto/phi"
)

// fxJoined returns the errors joined in err (err itself when it is not a
// join).
func fxJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

func TestConfigProfilesValid(t *testing.T) {
	profiles := []struct {
		name string
		cfg  Config
	}{
		{"Default", DefaultConfig()},
		{"LAN", LANConfig()},
		{"WAN", WANConfig()},
		{"Local", LocalConfig()},
	}
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			if err := p.cfg.Validate(); err != nil {
				t.Errorf("%s profile is invalid: %v", p.name, err)
			}
		})
	}
}

func TestDefaultConfigMatchesDesign(t *testing.T) {
	// DESIGN.md, "Configuration defaults": casty's values, except where a
	// change is documented on the field (AvailabilityInterval,
	// FirstHeartbeatEstimate and AcceptableHeartbeatPause).
	c := DefaultConfig()
	type defaults struct {
		GossipInterval, HeartbeatInterval, MinStdDeviation, FirstHeartbeatEstimate time.Duration
		GossipFanout, MaxSampleSize                                                int
		Threshold                                                                  float64
		Strategy                                                                   DowningStrategy
	}
	want := defaults{time.Second, 500 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond, 3, 200, 8, KeepMajority}
	got := defaults{c.GossipInterval, c.HeartbeatInterval, c.FailureDetector.MinStdDeviation, c.FailureDetector.FirstHeartbeatEstimate,
		c.GossipFanout, c.FailureDetector.MaxSampleSize, c.FailureDetector.Threshold, c.Downing.Strategy}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DefaultConfig (-want +got):\n%s", diff)
	}
}

func TestConfigProfilesOrdered(t *testing.T) {
	// Local is faster than Default, WAN slower or equal, interval by interval.
	intervals := func(c Config) map[string]time.Duration {
		return map[string]time.Duration{
			"GossipInterval":       c.GossipInterval,
			"HeartbeatInterval":    c.HeartbeatInterval,
			"AvailabilityInterval": c.AvailabilityInterval,
			"JoinRetryInterval":    c.JoinRetryInterval,
			"SeedNodeTimeout":      c.SeedNodeTimeout,
			"LeaveTimeout":         c.LeaveTimeout,
			"StableAfter":          c.StableAfter,
		}
	}
	def, local, wan := intervals(DefaultConfig()), intervals(LocalConfig()), intervals(WANConfig())
	for name, d := range def {
		t.Run(name, func(t *testing.T) {
			if local[name] >= d {
				t.Errorf("Local %s = %v, want < Default %v", name, local[name], d)
			}
			if wan[name] < d {
				t.Errorf("WAN %s = %v, want >= Default %v", name, wan[name], d)
			}
		})
	}
}

func TestConfigValidateOneBadField(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		field  string // text the error must name
		phi    bool   // the error also wraps phi.ErrBadConfig
	}{
		{"zero gossip interval", func(c *Config) { c.GossipInterval = 0 }, "GossipInterval", false},
		{"negative heartbeat interval", func(c *Config) { c.HeartbeatInterval = -time.Second }, "HeartbeatInterval", false},
		{"zero availability interval", func(c *Config) { c.AvailabilityInterval = 0 }, "AvailabilityInterval", false},
		{"zero join retry", func(c *Config) { c.JoinRetryInterval = 0 }, "JoinRetryInterval", false},
		{"zero seed timeout", func(c *Config) { c.SeedNodeTimeout = 0 }, "SeedNodeTimeout", false},
		{"zero leave timeout", func(c *Config) { c.LeaveTimeout = 0 }, "LeaveTimeout", false},
		{"zero tombstone ttl", func(c *Config) { c.TombstoneTTL = 0 }, "TombstoneTTL", false},
		{"tombstone ttl under ten gossip intervals", func(c *Config) { c.TombstoneTTL = 9 * c.GossipInterval }, "TombstoneTTL", false},
		{"zero stable after", func(c *Config) { c.StableAfter = 0 }, "StableAfter", false},
		{"zero fanout", func(c *Config) { c.GossipFanout = 0 }, "GossipFanout", false},
		{"fanout over 64", func(c *Config) { c.GossipFanout = 65 }, "GossipFanout", false},
		{"zero monitors", func(c *Config) { c.MonitoredBy = 0 }, "MonitoredBy", false},
		{"monitors over 64", func(c *Config) { c.MonitoredBy = 65 }, "MonitoredBy", false},
		{"negative weakly up", func(c *Config) { c.WeaklyUpAfter = -1 }, "WeaklyUpAfter", false},
		{"zero threshold", func(c *Config) { c.FailureDetector.Threshold = 0 }, "Threshold", true},
		{"zero sample size", func(c *Config) { c.FailureDetector.MaxSampleSize = 0 }, "MaxSampleSize", true},
		{"zero min std deviation", func(c *Config) { c.FailureDetector.MinStdDeviation = 0 }, "MinStdDeviation", true},
		{"negative pause", func(c *Config) { c.FailureDetector.AcceptableHeartbeatPause = -1 }, "AcceptableHeartbeatPause", true},
		{"zero first estimate", func(c *Config) { c.FailureDetector.FirstHeartbeatEstimate = 0 }, "FirstHeartbeatEstimate", true},
		{"static quorum without size", func(c *Config) { c.Downing = DowningConfig{Strategy: StaticQuorum} }, "QuorumSize", false},
		{"auto down without delay", func(c *Config) { c.Downing = DowningConfig{Strategy: AutoDown} }, "AutoDownAfter", false},
		{"unknown strategy", func(c *Config) { c.Downing.Strategy = 42 }, "Strategy", false},
		{"empty role", func(c *Config) { c.Roles = []string{"a", ""} }, "Roles[1]", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want an error naming %s", tc.field)
			}
			if !errors.Is(err, ErrBadConfig) {
				t.Errorf("Validate() error %v does not wrap ErrBadConfig", err)
			}
			if got := errors.Is(err, phi.ErrBadConfig); got != tc.phi {
				t.Errorf("errors.Is(err, phi.ErrBadConfig) = %v, want %v", got, tc.phi)
			}
			if n := len(fxJoined(err)); n != 1 {
				t.Errorf("Validate() reported %d errors, want 1: %v", n, err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("Validate() error %q does not name %s", err, tc.field)
			}
		})
	}
}

func TestConfigValidateGoodEdges(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
	}{
		{"fanout 1", func(c *Config) { c.GossipFanout = 1 }},
		{"fanout 64", func(c *Config) { c.GossipFanout = 64 }},
		{"monitors 64", func(c *Config) { c.MonitoredBy = 64 }},
		{"weakly up disabled", func(c *Config) { c.WeaklyUpAfter = 0 }},
		{"zero acceptable pause", func(c *Config) { c.FailureDetector.AcceptableHeartbeatPause = 0 }},
		{"tombstone ttl exactly ten gossip intervals", func(c *Config) { c.TombstoneTTL = 10 * c.GossipInterval }},
		{"static quorum", func(c *Config) { c.Downing = DowningConfig{Strategy: StaticQuorum, QuorumSize: 3} }},
		{"auto down", func(c *Config) { c.Downing = DowningConfig{Strategy: AutoDown, AutoDownAfter: time.Second} }},
		{"keep oldest", func(c *Config) { c.Downing.Strategy = KeepOldest }},
		{"down all", func(c *Config) { c.Downing.Strategy = DownAll }},
		{"manual", func(c *Config) { c.Downing.Strategy = Manual }},
		{"roles", func(c *Config) { c.Roles = []string{"frontend", "backend"} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mutate(&c)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestConfigValidateReportsEveryField(t *testing.T) {
	// Start from the defaults so that fields added later stay valid, then
	// break twelve of them at once.
	c := DefaultConfig()
	c.GossipFanout = 0
	c.HeartbeatInterval = 0
	c.AvailabilityInterval = -time.Second
	c.MonitoredBy = 100
	c.FailureDetector.Threshold = -1
	c.JoinRetryInterval = 0
	c.WeaklyUpAfter = -time.Second
	c.LeaveTimeout = 0
	c.TombstoneTTL = 9 * c.GossipInterval
	c.StableAfter = 0
	c.Downing = DowningConfig{Strategy: StaticQuorum, QuorumSize: 0}
	c.Roles = []string{""}
	want := []string{
		"HeartbeatInterval", "AvailabilityInterval", "JoinRetryInterval", "LeaveTimeout", "StableAfter",
		"GossipFanout", "MonitoredBy", "WeaklyUpAfter", "Threshold", "QuorumSize", "Roles[0]", "TombstoneTTL",
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want errors")
	}
	errs := fxJoined(err)
	if len(errs) != len(want) {
		t.Errorf("Validate() reported %d errors, want %d:\n%v", len(errs), len(want), err)
	}
	for _, e := range errs {
		if !errors.Is(e, ErrBadConfig) {
			t.Errorf("error %q does not wrap ErrBadConfig", e)
		}
	}
	for _, field := range want {
		t.Run(field, func(t *testing.T) {
			n := 0
			for _, e := range errs {
				if strings.Contains(e.Error(), field) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d errors name %s, want 1:\n%v", n, field, err)
			}
		})
	}
	if !errors.Is(err, ErrBadConfig) || !errors.Is(err, phi.ErrBadConfig) {
		t.Errorf("joined error should match ErrBadConfig and phi.ErrBadConfig: %v", err)
	}
}
