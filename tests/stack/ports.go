package stack

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

// FreeLoopbackAddr asks the kernel for an unused port on 127.0.0.1 and releases it for a service to
// bind. Another process could take it in between; the service then fails to bind and its start
// reports that with its log.
func FreeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// loopbackAddr returns addr, or a free 127.0.0.1 address when addr is empty.
func loopbackAddr(addr string) (string, error) {
	if addr != "" {
		return addr, nil
	}
	return FreeLoopbackAddr()
}

// listenNetwork tells a Unix socket path from a host:port.
func listenNetwork(addr string) string {
	if strings.HasPrefix(addr, "/") {
		return "unix"
	}
	return "tcp"
}

// accepts reports whether something accepts connections on addr.
func accepts(ctx context.Context, addr string) (bool, string) {
	d := net.Dialer{Timeout: 500 * time.Millisecond}
	c, err := d.DialContext(ctx, listenNetwork(addr), addr)
	if err != nil {
		return false, err.Error()
	}
	c.Close()
	return true, addr + " accepts"
}
