package termview

import (
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// requestStart is 09:30:00.123 UTC; the tests show it in CET (10:30:00.123)
// to prove times are printed in the local zone.
var requestStart = time.Date(2026, 11, 25, 9, 30, 0, 123_000_000, time.UTC)

func ms(v float64) int64 { return int64(v * 1e6) }

type spanOption func(*trace.Span)

func at(file string, line int64) spanOption {
	return func(s *trace.Span) {
		s.SetAttr(trace.AttrCodeFilePath, file)
		s.SetAttr(trace.AttrCodeLineNumber, line)
	}
}

func failed(msg string) spanOption {
	return func(s *trace.Span) { s.Status = trace.Status{Code: trace.StatusError, Message: msg} }
}

func kind(k trace.SpanKind) spanOption { return func(s *trace.Span) { s.Kind = k } }

func event(name string, atMs float64, typ, msg string) spanOption {
	return func(s *trace.Span) {
		s.Events = append(s.Events, trace.Event{Name: name, TimeUnixNano: requestStart.UnixNano() + ms(atMs),
			Attributes: trace.Attributes{trace.AttrExceptionType: typ, trace.AttrExceptionMessage: msg}})
	}
}

// span builds a function span; ids are small numbers for readable fixtures.
func span(id, parent byte, name string, startMs, durMs float64, opts ...spanOption) trace.Span {
	s := trace.Span{
		SpanID: trace.SpanID{0: 0x5a, 7: id}, Name: name, Kind: trace.KindInternal,
		StartUnixNano: requestStart.UnixNano() + ms(startMs), DurationNano: ms(durMs),
		Status: trace.Status{Code: trace.StatusUnset},
	}
	if parent != 0 {
		s.ParentSpanID = trace.SpanID{0: 0x5a, 7: parent}
	}
	for _, o := range opts {
		o(&s)
	}
	return s
}

const (
	wpRoot = "/var/www/html"
	wcDir  = wpRoot + "/wp-content/plugins/woocommerce/includes"
)

// wordpressCheckout is a WooCommerce checkout in deep mode that failed at
// the payment gateway and lost a few events on the way: nested hooks, an
// SQL call, an exception, a PHP deprecation, a closure with a long name, a
// call site with a long path and one span whose parent was lost. Spans are
// deliberately not in start order.
func wordpressCheckout() *trace.Trace {
	root := span(1, 0, "POST /checkout/", 0, 842.3, kind(trace.KindServer), failed("HTTP 500"))
	root.SetAttr(trace.AttrHTTPMethod, "POST")
	root.SetAttr(trace.AttrURLPath, "/checkout/")
	root.SetAttr(trace.AttrHTTPStatusCode, int64(500))
	root.SetAttr(trace.AttrPHPPool, "www")
	root.SetAttr(trace.AttrProcessPID, int64(4321))
	root.SetAttr(trace.AttrCodeFilePath, wpRoot+"/index.php")
	root.SetAttr(trace.AttrTuskLostEvents, int64(3))

	spans := []trace.Span{
		root,
		span(20, 1, "WC_Checkout::process_checkout", 130, 690, at(wcDir+"/class-wc-checkout.php", 1212),
			failed("Payment gateway timeout"),
			event(trace.EventException, 820.5, "RuntimeException", "Payment gateway timeout")),
		span(2, 1, "wp_initial_constants", 1.0, 0.4, at(wpRoot+"/wp-includes/default-constants.php", 17)),
		span(3, 1, "do_action", 5.0, 120.5, at(wpRoot+"/wp-includes/plugin.php", 517)),
		span(4, 3, "WP_Hook::do_action", 5.1, 120.2, at(wpRoot+"/wp-includes/class-wp-hook.php", 348)),
		span(6, 4, "wpcf7_init", 86.0, 4.8, at(wpRoot+"/wp-content/plugins/contact-form-7/includes/controller.php", 21),
			event(trace.EventPHPError, 88.0, "E_DEPRECATED", "Creation of dynamic property WPCF7::$version is deprecated")),
		span(5, 4, "WooCommerce::init", 5.3, 80.1, at(wcDir+"/class-woocommerce.php", 712)),
		span(7, 5, "mysqli_query", 10.0, 35.2, kind(trace.KindClient), at(wpRoot+"/wp-includes/class-wpdb.php", 2349)),
		span(21, 20, "WC_Checkout::validate_checkout", 131, 12.5, at(wcDir+"/class-wc-checkout.php", 904)),
		span(22, 20, "WC_Stripe_UPE_Payment_Gateway::process_payment", 145, 672,
			at(wpRoot+"/wp-content/plugins/woocommerce-gateway-stripe/includes/payment-methods/class-wc-stripe-upe-payment-gateway.php", 1234),
			failed("")),
		span(23, 22, "curl_exec", 146, 670.1, kind(trace.KindClient),
			at(wpRoot+"/wp-content/plugins/woocommerce-gateway-stripe/includes/class-wc-stripe-api.php", 178),
			failed("Operation timed out after 670 milliseconds")),
		span(30, 1, "{closure:/var/www/html/wp-content/themes/storefront/inc/class-storefront.php:123}", 824.0, 0.9,
			at(wpRoot+"/wp-content/themes/storefront/inc/class-storefront.php", 123)),
		span(31, 1, "wp_ob_end_flush_all", 825.0, 3.0, at(wpRoot+"/wp-includes/functions.php", 5464)),
		// Its parent's entry event was among the lost ones.
		span(41, 40, "WC_Session_Handler::save_data", 830.0, 8.0, at(wcDir+"/class-wc-session-handler.php", 271)),
	}
	return &trace.Trace{
		Summary: trace.Summary{
			TraceID: mustTraceID("4bf92f3577b34da6a3ce929d0e0e4736"), Service: "shop", Pool: "www", Host: "web-1",
			Method: "POST", Path: "/checkout/", StatusCode: 500,
			StartUnixNano: requestStart.UnixNano(), DurationNano: ms(842.3),
			Error: true, Incomplete: true, SpanCount: len(spans),
		},
		Spans: spans,
	}
}

// summaries is a search result as the CLI would show it, newest first.
func summaries() []trace.Summary {
	base := requestStart.UnixNano()
	return []trace.Summary{
		wordpressCheckout().Summary,
		{TraceID: mustTraceID("0af7651916cd43dd8448eb211c80319c"), Service: "shop", Pool: "www", Method: "GET",
			Path: "/wp-admin/admin-ajax.php", StatusCode: 200, StartUnixNano: base - ms(1500), DurationNano: ms(45.67), SpanCount: 1},
		{TraceID: mustTraceID("b7ad6b7169203331b7ad6b7169203331"), Service: "shop", Pool: "admin", Method: "GET",
			Path:       "/wp-json/wc/v3/reports/sales/by-product/with-a-very-long-name?period=last_month",
			StatusCode: 200, StartUnixNano: base - ms(61_000), DurationNano: ms(2_345.05), Incomplete: true, SpanCount: 912,
			NPlusOne: 2},
		{TraceID: mustTraceID("00000000000000000000000000000001"), Service: "wp-cron", Pool: "",
			Path: "/var/www/html/wp-cron.php", StartUnixNano: base - ms(3_600_000), DurationNano: ms(0.04), SpanCount: 1},
		{TraceID: mustTraceID("ffffffffffffffffffffffffffffffff"), Service: "shop", Pool: "www", Method: "GET",
			Path: "/é\x1b[31m", StatusCode: 404, StartUnixNano: base - ms(7_200_000), DurationNano: ms(3.25), Error: true, SpanCount: 2},
	}
}

func mustTraceID(s string) trace.TraceID {
	id, err := trace.ParseTraceID(s)
	if err != nil {
		panic(err)
	}
	return id
}
