package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// fcgiGet runs one PHP script on a php-fpm pool directly over FastCGI (no
// nginx, so the script need not be in the site's document root) and
// returns its output without the headers. A minimal client: one request per
// connection, GET, no body.
func fcgiGet(addr, script string) (string, error) {
	network := "tcp"
	if strings.HasPrefix(addr, "/") {
		network = "unix"
	}
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))

	const (
		typeBeginRequest = 1
		typeEndRequest   = 3
		typeParams       = 4
		typeStdin        = 5
		typeStdout       = 6
		typeStderr       = 7
	)
	var out bytes.Buffer
	record := func(typ byte, content []byte) {
		out.Write([]byte{1, typ, 0, 1, byte(len(content) >> 8), byte(len(content)), 0, 0})
		out.Write(content)
	}
	record(typeBeginRequest, []byte{0, 1, 0, 0, 0, 0, 0, 0}) // role responder, close the connection after
	var params bytes.Buffer
	for _, kv := range [][2]string{
		{"SCRIPT_FILENAME", script}, {"SCRIPT_NAME", "/" + script}, {"REQUEST_METHOD", "GET"},
		{"REQUEST_URI", "/bench-check"}, {"QUERY_STRING", ""}, {"SERVER_PROTOCOL", "HTTP/1.1"},
		{"GATEWAY_INTERFACE", "CGI/1.1"}, {"REMOTE_ADDR", "127.0.0.1"}, {"SERVER_NAME", "localhost"},
	} {
		for _, n := range []int{len(kv[0]), len(kv[1])} {
			if n < 128 {
				params.WriteByte(byte(n))
			} else {
				params.Write(binary.BigEndian.AppendUint32(nil, uint32(n)|1<<31))
			}
		}
		params.WriteString(kv[0])
		params.WriteString(kv[1])
	}
	record(typeParams, params.Bytes())
	record(typeParams, nil)
	record(typeStdin, nil)
	if _, err := c.Write(out.Bytes()); err != nil {
		return "", err
	}

	var stdout, stderr bytes.Buffer
	for {
		var h [8]byte
		if _, err := io.ReadFull(c, h[:]); err != nil {
			return "", fmt.Errorf("fastcgi: %w", err)
		}
		n, pad := int(binary.BigEndian.Uint16(h[4:6])), int(h[6])
		body := make([]byte, n+pad)
		if _, err := io.ReadFull(c, body); err != nil {
			return "", fmt.Errorf("fastcgi: %w", err)
		}
		switch h[1] {
		case typeStdout:
			stdout.Write(body[:n])
		case typeStderr:
			stderr.Write(body[:n])
		case typeEndRequest:
			text := stdout.String()
			if i := strings.Index(text, "\r\n\r\n"); i >= 0 {
				text = text[i+4:]
			}
			if stderr.Len() > 0 {
				return text, fmt.Errorf("fastcgi stderr: %s", stderr.String())
			}
			return text, nil
		}
	}
}
