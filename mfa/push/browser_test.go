package push_test

import (
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/mfa/push"
)

var (
	linkInText   = regexp.MustCompile(`http://\S+/push/v1/enrol#[A-Za-z0-9_-]+`)
	numberInText = regexp.MustCompile(`Number to enter:\s*(\d\d)\b`)
)

// TestBrowserPagesMoveOnByThemselves runs the pages in headless Chromium
// under the real Content-Security-Policy: the set-up page moves on once the
// device enrols, and the push page, once the device approves, completes
// the step-up and the SAML login without anyone clicking.
func TestBrowserPagesMoveOnByThemselves(t *testing.T) {
	t.Parallel()
	b := testenv.NewBrowser(t)
	env := testenv.Start(t)
	node := env.Nodes[0]
	sp := testenv.NewSP(t, testenv.SPOptions{})
	env.AddSAMLApp(t, "App", sp, "required", nil)
	env.AddUser(t, "eve@example.com", pw)

	b.Navigate(node.URL + "/login")
	b.Login("eve@example.com", pw)
	b.WaitText("Sign out")

	b.Navigate(node.URL + "/mfa/push/enrol")
	link := linkInText.FindString(b.WaitText("/push/v1/enrol#"))
	key, _ := push.NewKey()
	d, err := push.Enrol(ctx(t), link, "Eve's phone", key, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.WaitURL(node.URL + "/mfa/devices")
	b.WaitText("Eve's phone")

	b.Navigate(sp.AuthnRequestURL("relay-browser"))
	b.WaitURL(node.URL + "/mfa/push?c=")
	shown := b.WaitText("Number to enter")
	m := numberInText.FindStringSubmatch(shown)
	if m == nil {
		t.Fatalf("no number on the page:\n%s", shown)
	}
	n, _ := strconv.Atoi(m[1])
	chs, err := d.Challenges(ctx(t), 5*time.Second)
	if err != nil || len(chs) != 1 {
		t.Fatalf("device got %v, %v", chs, err)
	}
	if _, err := d.Approve(ctx(t), chs[0].ID, n); err != nil {
		t.Fatal(err)
	}
	b.WaitURL(sp.ACSURL())
	l, err := sp.LastLogin()
	if err != nil {
		t.Fatal(err)
	}
	if l.RelayState != "relay-browser" || !slices.Contains(l.Attributes["amr"], "swk") {
		t.Errorf("SP got relay %q, amr %v", l.RelayState, l.Attributes["amr"])
	}
}
