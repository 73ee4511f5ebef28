package web

// Page is what every template receives. layout.html draws the skeleton; the
// page file reads Data, whose type is given below for each page.
type Page struct {
	// Title overrides the page's default <title>.
	Title string
	// CSRF is the form token; Render fills it from the request when empty.
	CSRF string
	// RequestID is shown on error pages; Render fills it when empty.
	RequestID string
	// User is the signed-in user, nil when anonymous.
	User *PageUser
	// Data is the page's own data.
	Data any
}

// PageUser is the signed-in user as pages show it.
type PageUser struct {
	Email string
	Name  string
}

// LoginData is the Data of login.html.
type LoginData struct {
	Email string // pre-filled into the email field
	// Error is a generic failure message, shown in an alert. It must not say
	// whether the account exists.
	Error string
	// RetryAfter, when set (e.g. "2 minutes"), replaces Error with
	// "Too many attempts. Try again in {{RetryAfter}}."
	RetryAfter string
	Return     string // posted back in the hidden field "return"
	Notice     string // an informational message, e.g. after sign-out
	// IdPs are the upstream identity providers to sign in with, a button
	// each.
	IdPs []LoginIdP
	// NoPassword hides the password form and passkey sign-in
	// (login.password_form: false).
	NoPassword bool
}

// LoginIdP is a button on login.html: sign in with an upstream IdP.
type LoginIdP struct {
	Name string
	URL  string // local: /saml/sp/login?idp=…
}

// PortalData is the Data of portal.html.
type PortalData struct {
	Name     string
	Email    string
	Admin    bool
	Groups   []string
	AuthTime string // when the session signed in, already formatted
	Factors  []Factor
	Apps     []App
}

// Factor is one verification the session passed, for portal.html.
type Factor struct {
	Name string // e.g. "Password", "Authenticator app"
	At   string // already formatted
}

// App is one launchable app on the portal.
type App struct {
	Name string
	URL  string
}

// ErrorData is the Data of error.html. Message is shown to the browser as
// is, so it must never carry internal detail.
type ErrorData struct {
	Status  int
	Title   string
	Message string
}

// PasswordChangeData is the Data of password_change.html.
type PasswordChangeData struct {
	Error  string
	Return string
}
