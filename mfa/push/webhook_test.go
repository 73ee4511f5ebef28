package push_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/mfa/push"
)

type delivery struct {
	header http.Header
	body   []byte
}

// TestWebhook: a new push is POSTed to the webhook, signed with the secret,
// carrying what a device sees and the user's device IDs, never the number.
func TestWebhook(t *testing.T) {
	t.Parallel()
	const secret = "a webhook secret of some length"
	got := make(chan delivery, 4)
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Clone(), body}
	}))
	t.Cleanup(relay.Close)
	_, b, d := setup(t, func(c *config.Config) {
		c.MFA.Push.WebhookURL = relay.URL + "/wake"
		c.MFA.Push.WebhookSecret = secret
	})
	p := b.openPush(b.stepUpURL("Wiki", "/"))
	var w delivery
	select {
	case w = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook within 5 s")
	}
	sig := w.header.Get(push.WebhookHeader)
	if err := push.VerifyWebhook(secret, sig, w.body, time.Now(), time.Minute); err != nil {
		t.Fatalf("signature %q: %v", sig, err)
	}
	if push.VerifyWebhook("another secret entirely", sig, w.body, time.Now(), time.Minute) == nil {
		t.Error("the signature verifies under another secret")
	}
	if push.VerifyWebhook(secret, sig, append(w.body, ' '), time.Now(), time.Minute) == nil {
		t.Error("the signature verifies over another body")
	}
	if push.VerifyWebhook(secret, sig, w.body, time.Now().Add(time.Hour), time.Minute) == nil {
		t.Error("an old signature verifies")
	}
	if ct := w.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var payload push.WebhookPayload
	if err := json.Unmarshal(w.body, &payload); err != nil {
		t.Fatal(err)
	}
	if payload.Type != push.WebhookEvent || payload.Challenge.ID != p.id || payload.Challenge.User != b.user.Email ||
		payload.Challenge.App != "Wiki" || len(payload.Devices) != 1 || payload.Devices[0] != d.ID {
		t.Errorf("payload %+v", payload)
	}
	var raw map[string]any
	json.Unmarshal(w.body, &raw)
	for k := range raw["challenge"].(map[string]any) {
		if !strings.Contains("id user app ip created expires", k) {
			t.Errorf("webhook carries challenge field %q", k)
		}
	}
	if strings.Contains(string(w.body), `"number"`) || strings.Contains(string(w.body), ":"+strconv.Itoa(p.number)+",") {
		t.Errorf("webhook may carry the number %d: %s", p.number, w.body)
	}
	// A reload sends no second webhook.
	b.openPush(p.Request.URL.String())
	select {
	case w := <-got:
		t.Errorf("second webhook: %s", w.body)
	case <-time.After(300 * time.Millisecond):
	}
}
