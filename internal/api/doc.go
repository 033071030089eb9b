// Package api is tollgate's admin REST API (JSON under /api/v1/): accounts,
// subscribers, tariff plans and their assignment to accounts, and a rating
// endpoint that rates an event and explains the result without charging.
//
// Errors are JSON objects with a stable code, a message and, for bad input,
// the path of the offending field:
//
//	{"error": {"code": "invalid_argument", "message": "...", "field": "credit_limit",
//	           "details": [{"field": "...", "message": "..."}]}}
//
// Every error category is mapped to an HTTP status in one place (errors.go).
// The API is described by an OpenAPI 3.1 document (openapi.json, embedded and
// served at /api/v1/openapi.json; a copy lives in docs/).
package api
