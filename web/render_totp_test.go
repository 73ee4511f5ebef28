package web

import "html/template"

// Samples of the TOTP factor's pages. Their Data types live in package
// mfa/totp, which web cannot import; maps with the same field names stand
// in.
func init() {
	samplePages["mfa_totp.html"] = struct {
		page Page
		want []string
	}{
		Page{Data: map[string]any{"App": "Grafana", "Token": "tok.sig", "Error": "That code is not right.",
			"Issuer": "Portcullis", "Other": "/mfa?c=tok.sig"}},
		[]string{`action="/mfa/totp"`, `name="c" value="tok.sig"`, `autocomplete="one-time-code"`, `inputmode="numeric"`,
			"Grafana", "Portcullis", `role="alert"`, "That code is not right.", `aria-describedby="code-error"`,
			`href="/mfa?c=tok.sig"`},
	}
	samplePages["mfa_totp_enrol.html"] = struct {
		page Page
		want []string
	}{
		Page{Data: map[string]any{"Token": "tok.sig", "Enrolment": 42, "Name": "Work phone",
			"QR": template.URL("data:image/png;base64,iVBORw0KGgo="), "Secret": "JBSW Y3DP EHPK 3PXP",
			"URI":    template.URL("otpauth://totp/Portcullis:ada@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Portcullis"),
			"Issuer": "Portcullis", "Account": "ada@example.com", "Error": "", "Cancel": "/mfa/devices"}},
		[]string{`action="/mfa/totp/enrol"`, `name="c" value="tok.sig"`, `name="enrolment" value="42"`,
			`src="data:image/png;base64,iVBORw0KGgo="`, "JBSW Y3DP EHPK 3PXP",
			`href="otpauth://totp/Portcullis:ada@example.com?secret=JBSWY3DPEHPK3PXP&amp;issuer=Portcullis"`,
			`name="name"`, `value="Work phone"`, `name="code"`, "ada@example.com", `href="/mfa/devices"`},
	}
}
