package session

import "testing"

func TestThrottleKeys(t *testing.T) {
	th := &Throttle{}
	if th.ipKey("2001:db8:1:2:aaaa::1") != th.ipKey("2001:db8:1:2:bbbb::2") {
		t.Error("two addresses of one /64 counted apart")
	}
	if th.ipKey("2001:db8:1:2::1") == th.ipKey("2001:db8:1:3::1") {
		t.Error("two /64s counted together")
	}
	if th.ipKey("::ffff:192.0.2.1") != th.ipKey("192.0.2.1") {
		t.Error("IPv4-mapped address counted apart from IPv4")
	}
	if th.userKey("Ann@Example.com ") != th.userKey("ann@example.com") {
		t.Error("user key depends on case or spaces")
	}
	mfa := &Throttle{Scope: "mfa"}
	if mfa.userKey("ann@example.com") == th.userKey("ann@example.com") || mfa.ipKey("192.0.2.1") == th.ipKey("192.0.2.1") {
		t.Error("two scopes share a budget")
	}
}
