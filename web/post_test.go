package web

import "testing"

func TestFieldAttrsEscape(t *testing.T) {
	for f, want := range map[Field]string{
		{Name: "SAMLResponse", Value: "PHNhbWw+Zm9v/w=="}:             `name="SAMLResponse" value="PHNhbWw+Zm9v/w=="`,
		{Name: "RelayState", Value: `x&y"><script>alert(1)</script>`}: `name="RelayState" value="x&amp;y&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`,
		{Name: "RelayState", Value: "it's"}:                           `name="RelayState" value="it&#39;s"`,
	} {
		if got := string(f.Attrs()); got != want {
			t.Errorf("Attrs(%q) = %s, want %s", f.Value, got, want)
		}
	}
}
