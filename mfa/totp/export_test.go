package totp

// RFCCode is the tests' independent RFC 6238 reference, for the external
// tests (package totp_test).
var RFCCode = rfcCode
