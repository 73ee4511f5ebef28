package push

// This file is the device side of enrolment: POST /push/v1/enrol.

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/store"
)

// enrolInfo is GET /push/v1/enrol: someone opened an enrolment link in a
// browser. The token is in the fragment, which browsers never send, so it
// is not in any log.
func (f *Factor) enrolInfo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, "This is a Portcullis push enrolment link. Open it with the Portcullis authenticator:")
	fmt.Fprintln(w, "    gateway authenticator enroll 'THE WHOLE LINK'")
}

// deviceEnrol is POST /push/v1/enrol: a device uses a link, proving it
// holds the private key of the public key it registers (the request is
// signed with it). The enrolment is created unconfirmed; the browser page
// that showed the link confirms it.
func (f *Factor) deviceEnrol(w http.ResponseWriter, r *http.Request) {
	resp, aerr := f.enrolDevice(w, r)
	if aerr != nil {
		f.fail(w, r, aerr)
		return
	}
	writeJSON(w, http.StatusCreated, resp)
}

func (f *Factor) enrolDevice(w http.ResponseWriter, r *http.Request) (*EnrolResponse, *apiError) {
	body, aerr := readBody(w, r)
	if aerr != nil {
		return nil, aerr
	}
	var req EnrolRequest
	if aerr := decodeStrict(body, &req); aerr != nil {
		return nil, aerr
	}
	pub, err := decodeB64(req.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, badRequest("public_key must be an Ed25519 public key, base64url")
	}
	name := "Push device"
	if strings.TrimSpace(req.Name) != "" {
		if name, err = mfa.CleanName(req.Name); err != nil {
			return nil, badRequest("name: " + err.Error())
		}
	}
	nonce, aerr := f.signed(r, pub, "", body)
	if aerr == nil {
		aerr = f.fresh(r, "enrol", nonce)
	}
	if aerr != nil {
		return nil, aerr
	}
	id := linkID(req.Token)
	l, aerr := f.useLink(r, id)
	if aerr != nil {
		return nil, aerr
	}
	e, deviceID, err := f.createDevice(r.Context(), l.UserID, name, pub)
	if err != nil {
		return nil, unavailable(err)
	}
	_, err = updateRecord(r.Context(), f.core.Replay, linkKey(id), f.linkTTL, func(l *link) error {
		l.State, l.Enrolment, l.Device = linkEnrolled, e.ID, name
		return nil
	})
	if err != nil {
		return nil, unavailable(err)
	}
	return &EnrolResponse{DeviceID: deviceID, User: l.Email, Name: name, Server: f.opts.BaseURL}, nil
}

var errLinkUnusable = &apiError{status: http.StatusNotFound, code: CodeInvalidLink,
	msg: "the enrolment link is unknown, used or expired: open the set-up page again for a new one"}

// useLink finds a waiting link and claims it, so it works once.
func (f *Factor) useLink(r *http.Request, id string) (*link, *apiError) {
	data, _, err := f.core.Replay.Get(r.Context(), linkKey(id))
	if err != nil {
		if errors.Is(notFoundAsGone(err), errGone) {
			e := *errLinkUnusable
			e.reason = "unknown link"
			return nil, &e
		}
		return nil, unavailable(err)
	}
	var l link
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, unavailable(err)
	}
	if l.State != linkWaiting || !f.core.NowTime().Before(l.Expires) {
		e := *errLinkUnusable
		e.reason = "link " + l.State + " or expired"
		return nil, &e
	}
	won, err := f.core.Replay.Claim(r.Context(), "push:link-used:"+id, f.linkTTL(&l))
	if err != nil {
		return nil, unavailable(err)
	}
	if !won {
		e := *errLinkUnusable
		e.reason = "link used concurrently"
		return nil, &e
	}
	return &l, nil
}

// createDevice stores the unconfirmed enrolment. Its device ID is the
// enrolment's ID and 128 random bits: the number finds the enrolment, the
// random part (compared in constant time) makes IDs unguessable.
func (f *Factor) createDevice(ctx context.Context, userID int64, name string, pub []byte) (store.Enrolment, string, error) {
	e := store.Enrolment{UserID: userID, Factor: f.Name(), Name: name, Data: []byte("{}")}
	var deviceID string
	err := f.core.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateEnrolment(ctx, &e); err != nil {
			return err
		}
		deviceID = strconv.FormatInt(e.ID, 10) + "." + newID()
		e.Data, _ = json.Marshal(deviceData{PublicKey: b64(pub), DeviceID: deviceID})
		return tx.UpdateEnrolment(ctx, e)
	})
	return e, deviceID, err
}
