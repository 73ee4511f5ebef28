package portal

import (
	"testing"
	"time"
)

func TestReturnTarget(t *testing.T) {
	h := &Handler{}
	for in, want := range map[string]string{
		"":                       "/",
		"/":                      "/",
		"/apps?x=1":              "/apps?x=1",
		"//evil.example":         "/",
		"/\\evil.example":        "/",
		"https://evil.example/":  "/",
		"javascript:alert(1)":    "/",
		"/ok\r\nSet-Cookie: a=b": "/",
		"relative/path":          "/",
	} {
		if got := h.returnTarget(in); got != want {
			t.Errorf("returnTarget(%q) = %q, want %q", in, got, want)
		}
	}
	h.AllowReturn = func(s string) bool { return s == "https://app.example.com/x" }
	if got := h.returnTarget("https://app.example.com/x"); got != "https://app.example.com/x" {
		t.Errorf("AllowReturn not consulted: %q", got)
	}
}

func TestIPKeyGroupsIPv6By64(t *testing.T) {
	if ipKey("2001:db8:1:2:aaaa::1") != ipKey("2001:db8:1:2:bbbb::2") {
		t.Error("two addresses of one /64 counted apart")
	}
	if ipKey("2001:db8:1:2::1") == ipKey("2001:db8:1:3::1") {
		t.Error("two /64s counted together")
	}
	if ipKey("::ffff:192.0.2.1") != ipKey("192.0.2.1") {
		t.Error("IPv4-mapped address counted apart from IPv4")
	}
	if userKey("Ann@Example.com ") != userKey("ann@example.com") {
		t.Error("user key depends on case or spaces")
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second:                  "1 second",
		1500 * time.Millisecond:      "2 seconds",
		61 * time.Second:             "2 minutes",
		14*time.Minute + time.Second: "15 minutes",
		2 * time.Hour:                "2 hours",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
