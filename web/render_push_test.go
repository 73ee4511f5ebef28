package web

import (
	"html/template"
	"strings"
	"testing"
)

// Samples of the push factor's pages. Their Data types live in package
// mfa/push (VerifyData, EnrolData), which web cannot import; maps with the
// same field names stand in.
func init() {
	samplePages["mfa_push.html"] = struct {
		page Page
		want []string
	}{
		Page{Data: map[string]any{"App": "Grafana", "State": "pending", "Number": "47", "Challenge": "ch-1",
			"Token": "cont-1", "StatusURL": "/mfa/push/status?id=ch-1&c=cont-1", "ExpiresIn": 58,
			"Notice": "Not approved yet.", "RetryURL": "/mfa/push?c=cont-1", "ChooseURL": "/mfa?c=cont-1",
			"Devices": []string{"Work phone", "Laptop"}}},
		[]string{`<p class="number-match">`, ">47</p>", "Grafana", "<strong>Work phone</strong>, <strong>Laptop</strong>",
			`data-push-poll="/mfa/push/status?id=ch-1&amp;c=cont-1"`, `data-push-form="push-form"`, `id="push-form"`,
			`action="/mfa/push"`, `name="c" value="cont-1"`, `name="id" value="ch-1"`, "Not approved yet.",
			`data-push-countdown>58<`, `/static/push.js?v=`},
	}
	samplePages["mfa_push_enrol.html"] = struct {
		page Page
		want []string
	}{
		Page{Data: map[string]any{"State": "waiting", "Link": "https://sso.example.com/push/v1/enrol#tok",
			"QR": template.URL("data:image/png;base64,iVBORw0KGgo="), "Command": "gateway authenticator enroll 'https://sso.example.com/push/v1/enrol#tok'",
			"LinkID": "link-1", "Token": "", "StatusURL": "/mfa/push/enrol/status?l=link-1", "Minutes": 10,
			"Notice": "", "RestartURL": "/mfa/push/enrol"}},
		[]string{`class="qr" src="data:image/png;base64,iVBORw0KGgo="`, "https://sso.example.com/push/v1/enrol#tok",
			"gateway authenticator enroll", `action="/mfa/push/enrol"`, `name="l" value="link-1"`,
			`data-push-poll="/mfa/push/enrol/status?l=link-1"`, `data-push-form="enrol-form"`, "within 10 minutes",
			`/static/push.js?v=`},
	}
}

// TestPushPageStates renders every answered state: each says what happened,
// offers a new push, and neither polls nor posts.
func TestPushPageStates(t *testing.T) {
	rd := testRenderer(t)
	for state, heading := range map[string]string{"denied": "Sign-in denied", "failed": "The numbers did not match",
		"expired": "The push expired", "busy": "Too many pushes waiting", "used": "Approval already used"} {
		w := renderSample(t, rd, "mfa_push.html", Page{Data: map[string]any{"State": state, "App": "Grafana",
			"RetryURL": "/mfa/push?c=t", "ChooseURL": "/mfa?c=t"}})
		body := w.Body.String()
		for _, s := range []string{heading, `href="/mfa/push?c=t"`, "Send a new push", `href="/mfa?c=t"`} {
			if !strings.Contains(body, s) {
				t.Errorf("%s: page lacks %q", state, s)
			}
		}
		for _, s := range []string{"data-push-poll", "push.js", "<form", "number-match"} {
			if strings.Contains(body, s) {
				t.Errorf("%s: page has %q", state, s)
			}
		}
	}
	w := renderSample(t, rd, "mfa_push_enrol.html", Page{Data: map[string]any{"State": "expired", "RestartURL": "/mfa/push/enrol?c=t"}})
	if body := w.Body.String(); !strings.Contains(body, `href="/mfa/push/enrol?c=t"`) || strings.Contains(body, "data-push-poll") {
		t.Errorf("expired enrolment page:\n%s", body)
	}
}
