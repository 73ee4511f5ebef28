// Package mfa is the step-up pipeline: it sits between a sign-in (password
// or upstream IdP) and what goes out (a SAML Response, a forward-auth 200),
// and asks for a second factor when policy says so. The factors live in
// their own packages (mfa/totp, mfa/webauthn, mfa/push, mfa/recovery),
// each built on this core and registered with Handler.Register.
//
// The flow: a domain flow (the IdP's StepUp seam, forward-auth) calls
// Require (or Decide and StepUpURL). Policy (package policy) answers allow,
// deny, step up or enrol. For a step-up the browser goes to /mfa with a
// signed continuation in "c": the user, where to return, which factors are
// acceptable, whether the factor must be fresh, an expiry (15 minutes). /mfa
// lists the acceptable factors the user has (or goes straight to the only
// one); the factor's page calls Begin, verifies, and calls Succeed or Fail.
// Succeed records the factor in the session, rotates the session ID and
// returns to the continuation's target, which re-runs the original request
// (the parked AuthnRequest, the original URL) so the flow resumes exactly
// where it stopped.
//
// Decisions:
//   - The continuation is signed (HMAC-SHA256 under a master-derived key),
//     not stored: any node can continue it, and it names its user, so a
//     link cannot be replayed by another account. Its return target is a
//     local path or one AllowReturn accepts (forward-auth hosts): no open
//     redirect.
//   - Failed second-factor attempts are counted per user and per IP in the
//     session backend (scope "mfa", separate from password failures), so
//     the limit (default 10 per user per 15 minutes, NIST SP 800-63B
//     §5.2.2 allows at most 100) holds across nodes. A success clears the
//     user's count, not the IP's.
//   - Adding or removing a factor needs a second factor presented in the
//     last 10 minutes, when the user has one; the first enrolment needs only
//     the signed-in session (enrol on first use). Renaming needs only the
//     session.
//   - Enrol on first use (config mfa.enrol_on_first_use, on by default):
//     where MFA is required and the user has no acceptable factor, /mfa
//     offers to set one up, and enrolling it with proof of possession (a
//     TOTP code, a WebAuthn registration) counts as presenting it; a push
//     device must then answer a push. With it off the user gets a 403 page
//     that says to ask an administrator.
//   - Factors are offered phishing-resistant first: WebAuthn, push, TOTP,
//     then recovery codes.
//   - A backend failure (store or session) answers 503; it never lets the
//     request through.
//
// mfa is layer 2: it imports policy, keys, audit, web, session and store,
// and no other domain package.
package mfa
