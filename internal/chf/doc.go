// Package chf is tollgate's Charging Function: the producer side of 3GPP
// Nchf_ConvergedCharging v3 (TS 32.291) that an SMF (data sessions) and an
// SMSF (SMS) talk to (S0, DESIGN §4 "online").
//
// # Where things happen
//
//   - http.go: the SBI routes (create, update, release), body limits,
//     decoding with package nchf, ProblemDetails answers, the Location header.
//   - service.go: one request end to end: subscriber lookup, retransmission
//     check, the rating groups, the durable session save, the answer.
//   - quota.go: a rating group's used units are rated and committed, its
//     requested units rated and reserved, and the grant sized to what the
//     balance allows (resultCode, thresholds, finalUnitIndication).
//   - session.go: the state of one ChargingDataRef; store.go keeps it in
//     the balance engine (a put_state blob in the account's partition
//     journal: cluster state, S0.5) before every answer, and reloads it at
//     start so a restarted node continues every open session.
//   - directory.go: SUPI → account and tariff plan, cached in memory (S1.9).
//   - notify.go: REAUTHORIZATION and ABORT_CHARGING to the consumers'
//     notifyUri, with retries; records.go: the CHF-CDRs of a session.
//
// # Money and idempotency
//
// Every balance operation's key is derived from the ChargingDataRef, the
// invocationSequenceNumber and the rating group, and its content from the
// request alone (rating at the request's own time stamps, expiry from its
// invocationTimeStamp): a retransmission, a retry after a timeout, or the
// replay of a request after a crash applies nothing twice. The session keeps
// the last answer, so a retransmitted request gets it back unchanged.
package chf
