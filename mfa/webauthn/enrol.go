package webauthn

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// EnrolData is the Data of mfa_webauthn_enrol.html.
type EnrolData struct {
	Token string // the continuation, posted back as "c"; "" from the devices page
	Name  string // the suggested name
	// Begin and Finish are the endpoints of the ceremony.
	Begin, Finish string
	// Cancel is where the user goes back to.
	Cancel string
}

// selection asks for a discoverable credential when the authenticator can
// make one, and user verification when it can do it (see the package doc).
var selection = protocol.AuthenticatorSelection{
	ResidentKey:        protocol.ResidentKeyRequirementPreferred,
	RequireResidentKey: protocol.ResidentKeyNotRequired(),
	UserVerification:   protocol.VerificationPreferred,
}

// enrolPage is GET /mfa/webauthn/enrol: name the key, then register it.
func (f *Factor) enrolPage(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.BeginEnrol(w, r)
	if !ok {
		return
	}
	path := mfa.EnrolPath(f.Name())
	cancel := mfa.DevicesPath
	if a.Token != "" {
		cancel = mfa.ChoosePath + a.Query()
	}
	f.core.Render.Render(w, r, http.StatusOK, "mfa_webauthn_enrol.html", web.Page{Title: "Add a security key or passkey",
		User: mfa.PageUser(a.User), Data: EnrolData{Token: a.Token, Name: "Security key",
			Begin: path + "/begin", Finish: path + "/finish", Cancel: cancel}})
}

// enrolBegin checks the name and answers the options of a new credential,
// excluding the user's registered ones.
func (f *Factor) enrolBegin(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.BeginEnrol(w, r)
	if !ok {
		return
	}
	name, err := mfa.CleanName(r.PostForm.Get("name"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, reply{Error: "Name not accepted: " + err.Error() + "."})
		return
	}
	u, err := f.loadUser(r.Context(), a.User)
	if err != nil {
		f.unavailable(w, r, err)
		return
	}
	creation, sd, err := f.rp.BeginRegistration(u, gowebauthn.WithAuthenticatorSelection(selection),
		gowebauthn.WithExclusions(u.descriptors()), gowebauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		f.unavailable(w, r, err)
		return
	}
	f.started(w, r, ceremony{Kind: kindRegister, Bound: boundTo(a.Session), Name: name, Data: *sd}, creation.Response)
}

// enrolFinish verifies the new credential, stores it, and counts the
// registration as presenting the factor (the authenticator proved
// possession by signing the challenge).
func (f *Factor) enrolFinish(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.BeginEnrol(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	c, err := f.take(ctx, r.PostForm.Get("ceremony"), kindRegister, boundTo(a.Session))
	switch {
	case errors.Is(err, errNoCeremony):
		f.refuseEnrol(w, r, a, err.Error(), msgExpired)
		return
	case err != nil:
		f.unavailable(w, r, err)
		return
	}
	u, err := f.loadUser(ctx, a.User)
	if err != nil {
		f.unavailable(w, r, err)
		return
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(r.PostForm.Get("credential")))
	if err == nil {
		var cred *gowebauthn.Credential
		if cred, err = f.rp.CreateCredential(u, c.Data, parsed); err == nil {
			f.store(w, r, a, u, c.Name, cred)
			return
		}
	}
	f.refuseEnrol(w, r, a, "registration refused: "+describe(err),
		"The security key or passkey could not be registered. Try again, or use another one.")
}

// store saves a verified credential as a confirmed enrolment.
func (f *Factor) store(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, u *user, name string, cred *gowebauthn.Credential) {
	if _, dup := u.find(cred.ID); dup {
		f.refuseEnrol(w, r, a, "credential already registered", "This security key is registered already.")
		return
	}
	data, err := json.Marshal(cred)
	if err != nil {
		f.unavailable(w, r, err)
		return
	}
	e := store.Enrolment{UserID: a.User.ID, Factor: f.Name(), Name: name, Data: data, Confirmed: true,
		CreatedAt: f.core.NowTime()}
	if err := f.core.Store.CreateEnrolment(r.Context(), &e); err != nil {
		f.unavailable(w, r, err)
		return
	}
	f.core.RecordEnrolment(r, a, e)
	f.complete(w, r, a, map[string]string{"enrolment": "new"})
}

// refuseEnrol answers a registration that did not verify. It is logged,
// not counted as a failed second factor: the user is signed in and adding
// a key, not guessing one.
func (f *Factor) refuseEnrol(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, reason, msg string) {
	f.logger().InfoContext(r.Context(), "webauthn registration refused", "user", a.User.Email, "reason", reason,
		"request_id", web.RequestID(r.Context()))
	writeJSON(w, http.StatusBadRequest, reply{Error: msg})
}
