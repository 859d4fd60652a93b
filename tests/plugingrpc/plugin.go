package plugingrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// stderrTailBytes is how much of the plugin's output a Plugin keeps.
const stderrTailBytes = 64 << 10

// handshake is the one Grafana and the SDK's grpcplugin.Serve agree on: a
// different protocol version or cookie and the executable refuses to start.
var handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  grpcplugin.ProtocolVersion,
	MagicCookieKey:   grpcplugin.MagicCookieKey,
	MagicCookieValue: grpcplugin.MagicCookieValue,
}

// pluginSet lists the services Grafana asks a backend plugin for under
// protocol version 2. Dispensing a gRPC plugin only wraps the connection:
// a service the executable does not serve answers Unimplemented when called.
func pluginSet() goplugin.PluginSet {
	return goplugin.PluginSet{
		"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
		"resource":    &grpcplugin.ResourceGRPCPlugin{},
		"data":        &grpcplugin.DataGRPCPlugin{},
		"stream":      &grpcplugin.StreamGRPCPlugin{},
		"admission":   &grpcplugin.AdmissionGRPCPlugin{},
		"conversion":  &grpcplugin.ConversionGRPCPlugin{},
	}
}

// grafanaVersion is what the plugin is told it runs under; it matches
// grafanaDependency in src/plugin.json.
const grafanaVersion = "12.3.0"

// grafanaEnv is the environment Grafana gives a plugin when it does not
// pass its own (skip_host_env_vars): its GF_* variables plus the proxy
// settings of the host. Nothing else of the test's environment leaks in, so
// a test passes or fails the same on every machine.
func grafanaEnv() []string {
	env := []string{"GF_VERSION=" + grafanaVersion, "GF_EDITION=oss"}
	for _, name := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"} {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return env
}

// Plugin is a running plugin executable and gRPC clients for its services.
type Plugin struct {
	client      *goplugin.Client
	cmd         *exec.Cmd
	output      *tailBuffer
	diagnostics grpcplugin.DiagnosticsClient
	resource    grpcplugin.ResourceClient
	data        grpcplugin.DataClient
	closed      bool
}

// Start launches exePath the way Grafana does — go-plugin client, the SDK
// handshake, gRPC only — and connects to it. env entries ("KEY=value") are
// added to, and override, the Grafana defaults (GF_VERSION, GF_EDITION and
// the host's proxy variables). The start is bounded by ctx's deadline
// (go-plugin's StartTimeout, one minute without one). Close the Plugin when
// done.
func Start(ctx context.Context, exePath string, env ...string) (*Plugin, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	startTimeout := time.Minute
	if deadline, ok := ctx.Deadline(); ok {
		startTimeout = time.Until(deadline)
	}
	output := newTailBuffer(stderrTailBytes)
	cmd := exec.Command(exePath)
	// exec keeps the last of duplicate keys: callers override the defaults.
	cmd.Env = append(grafanaEnv(), env...)
	client := goplugin.NewClient(&goplugin.ClientConfig{
		Cmd:              cmd,
		HandshakeConfig:  handshake,
		VersionedPlugins: map[int]goplugin.PluginSet{grpcplugin.ProtocolVersion: pluginSet()},
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		SkipHostEnv:      true,
		StartTimeout:     startTimeout,
		// The plugin's hclog JSON lines arrive on its real stderr (Stderr);
		// what it writes to os.Stdout/os.Stderr after go-plugin swapped them
		// comes through go-plugin's stdio stream (SyncStdout/SyncStderr).
		// Keep all of it, raw, for test failures.
		Stderr:     output,
		SyncStdout: output,
		SyncStderr: output,
		// Without a logger go-plugin re-logs every plugin line to the test's
		// stderr; the raw lines above are enough.
		Logger: hclog.NewNullLogger(),
	})
	p := &Plugin{client: client, cmd: cmd, output: output}
	fail := func(err error) (*Plugin, error) {
		client.Kill()
		return nil, fmt.Errorf("starting plugin %s: %w\nplugin output:\n%s", exePath, err, output.String())
	}
	rpc, err := client.Client()
	if err != nil {
		return fail(err)
	}
	if err := rpc.Ping(); err != nil {
		return fail(err)
	}
	for name, dst := range map[string]any{"diagnostics": &p.diagnostics, "resource": &p.resource, "data": &p.data} {
		raw, err := rpc.Dispense(name)
		if err != nil {
			return fail(fmt.Errorf("dispense %s: %w", name, err))
		}
		if err := assign(dst, raw); err != nil {
			return fail(fmt.Errorf("dispense %s: %w", name, err))
		}
	}
	return p, nil
}

// assign stores a dispensed client in the typed field dst points to.
func assign(dst, raw any) error {
	var ok bool
	switch d := dst.(type) {
	case *grpcplugin.DiagnosticsClient:
		*d, ok = raw.(grpcplugin.DiagnosticsClient)
	case *grpcplugin.ResourceClient:
		*d, ok = raw.(grpcplugin.ResourceClient)
	case *grpcplugin.DataClient:
		*d, ok = raw.(grpcplugin.DataClient)
	}
	if !ok {
		return fmt.Errorf("unexpected client type %T", raw)
	}
	return nil
}

// QueryData sends req to the plugin's Data service, as Grafana does for a
// data source query.
func (p *Plugin) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp, err := p.data.QueryData(ctx, backend.ToProto().QueryDataRequest(req))
	if err != nil {
		return nil, err
	}
	return backend.FromProto().QueryDataResponse(resp)
}

// CheckHealth sends req to the plugin's Diagnostics service (Grafana's
// "Save & test" of a data source, or an app's health check).
func (p *Plugin) CheckHealth(ctx context.Context, req *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	resp, err := p.diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{
		PluginContext: backend.ToProto().PluginContext(req.PluginContext),
		Headers:       req.Headers,
	})
	if err != nil {
		return nil, err
	}
	return backend.FromProto().CheckHealthResponse(resp), nil
}

// CallResource sends req to the plugin's Resource service and collects the
// streamed answer into one response: the status and headers of the first
// message that has them, all bodies concatenated. An empty req.URL is set
// to req.Path (Grafana always sends both).
func (p *Plugin) CallResource(ctx context.Context, req *backend.CallResourceRequest) (*backend.CallResourceResponse, error) {
	protoReq := backend.ToProto().CallResourceRequest(req)
	if protoReq.Url == "" {
		protoReq.Url = req.Path
	}
	stream, err := p.resource.CallResource(ctx, protoReq)
	if err != nil {
		return nil, err
	}
	out := &backend.CallResourceResponse{Headers: map[string][]string{}}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		part := backend.FromProto().CallResourceResponse(msg)
		if out.Status == 0 {
			out.Status = part.Status
		}
		for k, v := range part.Headers {
			if _, seen := out.Headers[k]; !seen {
				out.Headers[k] = v
			}
		}
		out.Body = append(out.Body, part.Body...)
	}
}

// Pid is the plugin process's id.
func (p *Plugin) Pid() int {
	return p.cmd.Process.Pid
}

// Exited reports whether the plugin process has ended (crashed, or Close).
func (p *Plugin) Exited() bool {
	return p.client.Exited()
}

// Stderr returns the last 64 KiB the plugin wrote: its hclog JSON log
// lines, panics, and anything else on stdout or stderr. Put it in test
// failures.
func (p *Plugin) Stderr() string {
	return p.output.String()
}

// Close stops the plugin the way Grafana does (gRPC shutdown, then a kill
// after two seconds) and waits until the process is reaped. It is an error
// if the plugin had already exited by itself, or is somehow still alive.
// Calling Close again does nothing.
func (p *Plugin) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	crashed := p.client.Exited()
	p.client.Kill()
	if crashed {
		return fmt.Errorf("plugin process %d exited before Close\nplugin output:\n%s", p.Pid(), p.output.String())
	}
	// Kill returns once go-plugin's Wait on the process has returned, so the
	// pid is gone unless something else still holds the process.
	if err := syscall.Kill(p.Pid(), 0); !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("plugin process %d still there after Close (kill 0: %v)", p.Pid(), err)
	}
	return nil
}
