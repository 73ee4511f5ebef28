package web

import (
	"testing"
	"time"
)

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second:                  "1 second",
		1500 * time.Millisecond:      "2 seconds",
		61 * time.Second:             "2 minutes",
		14*time.Minute + time.Second: "15 minutes",
		2 * time.Hour:                "2 hours",
	} {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for s, want := range map[string]bool{
		"/": true, "/saml/sso?x=1": true, "/a/b#c": true,
		"": false, "//evil.example": false, "/\\evil.example": false, "https://evil.example/": false,
		"javascript:alert(1)": false, "/a\r\nSet-Cookie: x": false, "relative": false,
	} {
		if got := LocalPath(s); got != want {
			t.Errorf("LocalPath(%q) = %v, want %v", s, got, want)
		}
	}
}
