package rating

import "github.com/tollgate-billing/tollgate/internal/usage"

// ServiceUnit returns the unit in which the plan measures a service: the
// declared unit of a custom service, or the built-in unit of voice, video
// (second), sms, mms (message) and data (byte).
func (p *Plan) ServiceUnit(id string) (usage.Unit, bool) {
	for _, s := range p.Services {
		if s.ID == id {
			u, err := usage.ParseUnit(s.Unit)
			return u, err == nil
		}
	}
	for _, b := range builtinServices {
		if b.id == id {
			return b.unit, true
		}
	}
	return usage.Invalid, false
}
