// Package rating is tollgate's rating engine: it prices usage events
// (calls, messages, data, cloud resource usage) against tariff plans. It
// implements the rating and discount processing of the core processing
// layer (MISSION S1.2) with every rating parameter table resident in memory
// (S1.9): rating does no I/O, takes no lock and, when no explanation is
// asked for, allocates nothing.
//
// # Plans
//
// A plan is a YAML (or JSON) document, parsed strictly by ParsePlan: an
// unknown key is an error, and every problem is reported at once with its
// field path and line (*FieldError, wrapping ErrInvalidPlan). The full
// reference, with an example and the exact rating rules, is
// docs/tariffs.md; examples/plans holds realistic plans. In short:
//
//	id: consumer-eu                  # [a-z0-9][a-z0-9._-]{0,63}
//	currency: EUR                    # ISO 4217
//	timezone: Europe/Berlin          # bands, dates and periods are local to it (default UTC)
//	rounding: {scale: 2, mode: half_up}   # final rounding; default: currency exponent, half_up
//	services: [{id: vm-cpu, unit: vcpu_second}]   # custom services; voice, video (second),
//	                                 # sms, mms (message) and data (byte) are built in
//	zones: [{id: mobile, prefixes: ["4915", "4916"]}]   # longest prefix wins
//	bands:                           # first match wins; exactly one default band
//	  - {id: holiday, dates: ["12-25", "2026-04-03"]}
//	  - {id: weekend, days: [sat, sun]}
//	  - {id: peak, days: [mon, tue, wed, thu, fri], from: "08:00", to: "20:00"}
//	  - {id: offpeak, default: true}
//	rates:                           # by (service, zone, band); "*" = any; most specific wins
//	  - {service: voice, zone: mobile, band: peak, connect_fee: "0.05", minimum_charge: "0.10",
//	     increments: {first: 60, next: 60},
//	     tiers: [{upto: 300, price: "0.09", per: 60}, {price: "0.05", per: 60}]}
//	discounts:                       # allowance | percentage | cap
//	  - {id: free-sms, type: allowance, service: sms, units: 100, period: month}
//
// # Rating
//
// An Engine holds an immutable catalog of compiled plans behind an atomic
// pointer. Load compiles a whole batch (prefix trie in flat arrays, a rate
// table indexed by service, zone and band, band tables, per-service
// discount lists, the plan's timezone as a flat table of UTC offsets) and
// swaps it in only if every plan is valid. Rate reads the current catalog
// and applies, in order: zone and band lookup, increments, splitting of
// time-unit usage at band edges, free allowances, tiered pricing, connect
// fee and minimum charge, percentage discounts, price caps and the final
// rounding (docs/tariffs.md, "Rating rules").
//
// Rating is pure: period state (allowance units used, amount charged
// under a cap, usage so far for period-based tiers) comes in as
// Event.Counters and the changes to apply go out as Result.Deltas. The
// caller (the account service) owns that state and applies the deltas
// atomically with the charge, which keeps rating idempotent and retryable
// (DESIGN §2.3).
//
// Money is exact: every amount is a money.Decimal; tier pieces and
// percentage discounts are computed at 9 fractional digits with
// round-half-even and summed exactly; only the final amount is rounded to
// the plan's scale and mode. Arithmetic overflow is an error (ErrOverflow),
// never a wrap-around.
//
// # Concurrency
//
// An Engine is safe for concurrent use. Rate never blocks; Load may run
// concurrently with Rate, and each Rate call sees either the old or the new
// catalog in full. A Result must not be shared between goroutines.
package rating
