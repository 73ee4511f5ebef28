package portal

import (
	"testing"
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
