package otlpexport

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// sender delivers one export request. Its error is an *exportError when
// the backend answered or could not be reached.
type sender interface {
	send(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTracePartialSuccess, error)
	close() error
}

// exportError says whether an attempt may be repeated, and after how long
// the backend asked us to wait (0: our own backoff).
type exportError struct {
	retryable  bool
	retryAfter time.Duration
	err        error
}

func (e *exportError) Error() string { return e.err.Error() }
func (e *exportError) Unwrap() error { return e.err }

// classify returns whether err may be retried and the delay the backend
// asked for.
func classify(err error) (bool, time.Duration) {
	var ee *exportError
	if errors.As(err, &ee) {
		return ee.retryable, ee.retryAfter
	}
	return false, 0
}

func tlsConfig(caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", caFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}

func newSender(cfg *Config, userAgent string) (sender, error) {
	t, err := cfg.target()
	if err != nil {
		return nil, err
	}
	var tlsCfg *tls.Config
	if t.tls {
		if tlsCfg, err = tlsConfig(cfg.CAFile); err != nil {
			return nil, err
		}
	}
	if cfg.Protocol == ProtocolHTTP {
		return newHTTPSender(t.url, tlsCfg, cfg.Headers, userAgent), nil
	}
	return newGRPCSender(t.grpcAddr, tlsCfg, cfg.Headers, userAgent)
}

// gRPC: opentelemetry.proto.collector.trace.v1.TraceService/Export.

type grpcSender struct {
	conn   *grpc.ClientConn
	client coltracepb.TraceServiceClient
	md     metadata.MD
}

func newGRPCSender(addr string, tlsCfg *tls.Config, headers map[string]string, userAgent string) (*grpcSender, error) {
	creds := insecure.NewCredentials()
	if tlsCfg != nil {
		creds = credentials.NewTLS(tlsCfg)
	}
	// NewClient does not connect: an unreachable backend shows up as
	// Unavailable on the first export, never at start.
	// Reconnect within seconds once a backend is back (gRPC's default
	// backoff grows to two minutes); our own retries pace the exports.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds), grpc.WithUserAgent(userAgent),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 250 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
			MinConnectTimeout: 5 * time.Second,
		}))
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", addr, err)
	}
	return &grpcSender{conn: conn, client: coltracepb.NewTraceServiceClient(conn), md: metadata.New(headers)}, nil
}

func (g *grpcSender) send(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTracePartialSuccess, error) {
	if len(g.md) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, g.md)
	}
	resp, err := g.client.Export(ctx, req)
	if err != nil {
		return nil, grpcError(err)
	}
	return resp.GetPartialSuccess(), nil
}

func (g *grpcSender) close() error { return g.conn.Close() }

// grpcError classifies a failed call as the OTLP specification says:
// these codes are transient, the others are not.
func grpcError(err error) error {
	st := status.Convert(err)
	e := &exportError{err: fmt.Errorf("gRPC %s: %s", st.Code(), st.Message())}
	switch st.Code() {
	case codes.Unavailable, codes.ResourceExhausted, codes.DeadlineExceeded, codes.Aborted,
		codes.OutOfRange, codes.DataLoss, codes.Canceled:
		e.retryable = true
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			e.retryAfter = ri.GetRetryDelay().AsDuration()
		}
	}
	return e
}

// HTTP/protobuf: POST the request to /v1/traces.

type httpSender struct {
	url       string
	client    *http.Client
	headers   map[string]string
	userAgent string
}

func newHTTPSender(url string, tlsCfg *tls.Config, headers map[string]string, userAgent string) *httpSender {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	tr.MaxIdleConnsPerHost = 2
	return &httpSender{url: url, client: &http.Client{Transport: tr}, headers: headers, userAgent: userAgent}
}

// maxResponse bounds what is read of an answer.
const maxResponse = 64 << 10

func (h *httpSender) send(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTracePartialSuccess, error) {
	body, err := proto.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range h.headers {
		hr.Header.Set(k, v)
	}
	hr.Header.Set("Content-Type", "application/x-protobuf")
	hr.Header.Set("User-Agent", h.userAgent)
	resp, err := h.client.Do(hr)
	if err != nil {
		// Refused, reset, timed out: the backend may be back soon. A
		// certificate we do not trust stays untrusted.
		var cv *tls.CertificateVerificationError
		return nil, &exportError{retryable: !errors.As(err, &cv), err: err}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode/100 == 2 {
		var out coltracepb.ExportTraceServiceResponse
		if len(data) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-protobuf") {
			if err := proto.Unmarshal(data, &out); err != nil {
				return nil, fmt.Errorf("HTTP %d: undecodable answer: %w", resp.StatusCode, err)
			}
		}
		return out.GetPartialSuccess(), nil
	}
	e := &exportError{err: fmt.Errorf("HTTP %d: %s", resp.StatusCode, httpMessage(resp, data))}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		e.retryable = true
		e.retryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return nil, e
}

func (h *httpSender) close() error {
	h.client.CloseIdleConnections()
	return nil
}

// httpMessage is the backend's reason: a google.rpc.Status when it sent
// one, else the start of the body.
func httpMessage(resp *http.Response, data []byte) string {
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-protobuf") {
		var st spb.Status
		if proto.Unmarshal(data, &st) == nil && st.GetMessage() != "" {
			return st.GetMessage()
		}
	}
	msg := strings.TrimSpace(string(data))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return msg
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
