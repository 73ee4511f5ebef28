package web

// Samples of the recovery-code factor's pages. Their Data types live in
// package mfa/recovery, which web cannot import; maps with the same field
// names stand in.
func init() {
	samplePages["mfa_recovery.html"] = struct {
		page Page
		want []string
	}{
		Page{Data: map[string]any{"App": "Grafana", "Token": "tok.sig", "Error": "That recovery code was already used.",
			"Other": "/mfa?c=tok.sig"}},
		[]string{`action="/mfa/recovery"`, `name="c" value="tok.sig"`, `name="code"`, `autocomplete="off"`, "Grafana",
			`role="alert"`, "That recovery code was already used.", `aria-invalid="true"`, `href="/mfa?c=tok.sig"`},
	}
	samplePages["mfa_recovery_enrol.html"] = struct {
		page Page
		want []string
	}{
		Page{Data: map[string]any{"Token": "tok.sig", "Total": 10, "Remaining": 3, "Allowed": true, "Error": "",
			"Cancel": "/mfa/devices"}},
		[]string{`action="/mfa/recovery/enrol"`, `name="c" value="tok.sig"`, "<strong>3</strong> of 10 codes left",
			"Replace with new codes", `href="/mfa/devices"`},
	}
	samplePages["mfa_recovery_codes.html"] = struct {
		page Page
		want []string
	}{
		Page{Data: map[string]any{"Codes": []string{"abcde-23456", "fghjk-789mn"}, "Replaced": true,
			"Continue": "/mfa?c=tok.sig"}},
		[]string{`class="codes"`, "<code>abcde-23456</code>", "<code>fghjk-789mn</code>", "will not be shown again",
			"no longer work", `href="/mfa?c=tok.sig"`},
	}
}
