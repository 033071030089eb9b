// Package nchftest validates Nchf messages against the official 3GPP
// schemas (TS 32.291, TS 29.571), for tests of the packages that produce
// them: the bundle of schemas is internal/nchf/testdata/3gpp.
package nchftest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

var (
	once sync.Once
	doc  *openapi3.T
	err  error
)

func load() (*openapi3.T, error) {
	once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		path := filepath.Join(filepath.Dir(file), "..", "testdata", "3gpp", "nchf_schemas.json")
		var data []byte
		if data, err = os.ReadFile(path); err != nil {
			return
		}
		doc, err = openapi3.NewLoader().LoadFromData(data)
	})
	return doc, err
}

// Schema names accepted by Validate.
const (
	ChargingDataRequest    = "TS32291_Nchf_ConvergedCharging.ChargingDataRequest"
	ChargingDataResponse   = "TS32291_Nchf_ConvergedCharging.ChargingDataResponse"
	ChargingNotifyRequest  = "TS32291_Nchf_ConvergedCharging.ChargingNotifyRequest"
	ChargingNotifyResponse = "TS32291_Nchf_ConvergedCharging.ChargingNotifyResponse"
	ProblemDetails         = "TS29571_CommonData.ProblemDetails"
)

// Validate checks a JSON message against the schema name (one of the
// constants above), with formats (date-time …) checked.
func Validate(name string, data []byte) error {
	d, err := load()
	if err != nil {
		return fmt.Errorf("nchftest: schemas: %w", err)
	}
	ref := d.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("nchftest: no schema %s", name)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	return ref.Value.VisitJSON(v, openapi3.EnableFormatValidation(), openapi3.MultiErrors())
}
