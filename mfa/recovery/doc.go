// Package recovery is the "Recovery code" second factor: ten one-time codes
// a user keeps on paper or in a password manager, for the day their phone
// or security key is lost.
//
// Pages: GET /mfa/recovery/enrol says what the codes are for (and how many
// of the current set are left); POST /mfa/recovery/enrol makes a new set and
// shows it, once; GET and POST /mfa/recovery?c=TOKEN take a code during a
// step-up.
//
// Decisions:
//   - A code is 10 characters of a 31-character alphabet without look-alikes
//     (no 0/o, 1/l/i), about 49 bits, shown as xxxxx-xxxxx. Input is read
//     case-insensitively, with or without the dash and spaces. With the
//     core's throttle (10 failures per user per 15 minutes) guessing one is
//     hopeless, so a fast keyed hash is enough.
//   - Only hashes are stored: HMAC-SHA256 under a key derived from the master
//     secret ("mfa recovery codes"), over the user's ID and the code, so a
//     hash is worthless without the master secret and cannot be moved to
//     another user. Codes are shown once, on the page that made them, and
//     can never be shown again (the page is no-store).
//   - One set per user, in one enrolment (factor "recovery", confirmed from
//     the start). Making a new set deletes the old one in the same
//     transaction, so old codes stop working at once.
//   - Making a set needs what adding any factor needs (mfa.Handler.
//     BeginEnrol: a second factor in the last 10 minutes) and, because codes
//     are a fallback and not a way to meet MFA on their own, another usable
//     factor; enrol on first use never offers them. It is audited as an
//     enrolment (not as presenting a factor), and the page with the codes
//     replaces the redirect: its Continue link goes where that redirect
//     would have.
//   - A code works once. Its use is marked in the enrolment and claimed in
//     the session backend ("recovery:<user id>:<hash>", kept a day), so that
//     two concurrent uses on any nodes cannot both win. The marks are a
//     read-modify-write of one row, which the store cannot compare-and-swap,
//     so uses of one user's codes are serialised across nodes by a short
//     lock in the session backend (an atomic counter; see lock); a use that
//     cannot get it within two seconds answers 503 and changes nothing.
//   - The enrolment is usable (mfa.Usable) while an unused code remains.
//     The count left is in the success's audit details ("remaining") and on
//     the set-up page.
//   - A wrong or used code counts as a failed attempt (mfa.Handler.Fail);
//     input that cannot be a code is refused with a hint and not counted.
//
// recovery is layer 2 under mfa: it imports mfa, policy, keys, session, store
// and web, and no other domain package.
package recovery
