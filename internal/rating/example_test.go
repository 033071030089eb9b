package rating_test

import (
	"fmt"
	"time"

	"github.com/tollgate-billing/tollgate/internal/rating"
)

func ExampleEngine_Rate() {
	plan, err := rating.ParsePlan([]byte(`
id: demo
currency: EUR
timezone: Europe/Berlin
zones: [{id: mobile, prefixes: ["4915", "4916", "4917"]}]
bands:
  - {id: peak, days: [mon, tue, wed, thu, fri], from: "08:00", to: "20:00"}
  - {id: offpeak, default: true}
rates:
  - {service: voice, zone: mobile, band: peak, connect_fee: "0.05", increments: {first: 60, next: 60}, price: "0.09", per: 60}
  - {service: voice, zone: mobile, increments: {first: 60, next: 60}, price: "0.04", per: 60}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	e := rating.NewEngine()
	if err := e.Load([]*rating.Plan{plan}); err != nil {
		fmt.Println(err)
		return
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ev := rating.Event{
		PlanID: "demo", Service: "voice", Destination: "+4915112345678",
		Start: time.Date(2026, 3, 10, 19, 58, 0, 0, berlin), Quantity: 300, Explain: true,
	}
	var res rating.Result
	if err := e.Rate(&ev, &res); err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range res.Lines {
		fmt.Printf("%-11s %-7s %3d units  %s\n", l.Kind, l.Band, l.Units, l.Amount)
	}
	fmt.Println("total", res.Amount, res.Currency)
	// Output:
	// tier        peak    120 units  0.180000000
	// tier        offpeak 180 units  0.120000000
	// connect_fee peak      0 units  0.05
	// rounding    peak      0 units  0.000000000
	// total 0.35 EUR
}

func ExampleParsePlan_errors() {
	_, err := rating.ParsePlan([]byte(`
id: demo
currency: EUR
rates:
  - {service: voice, price: "-0.10", incremnts: {first: 60}}
`))
	fmt.Println(err)
	// Output:
	// rating: rates[0].incremnts (line 5): unknown field "incremnts" (did you mean "increments"?)
	// rating: rates[0].price (line 5): must not be negative; got -0.10
}
