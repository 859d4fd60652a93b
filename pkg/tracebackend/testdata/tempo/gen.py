#!/usr/bin/env python3
"""Writes Tempo-shaped answers from the recorded agent answers (see README.md).
Run from this folder: python3 gen.py"""
import base64
import json

AGENT = '../../../plugin/testdata/agent/'
# Attributes the OTLP exporter sends as resource attributes (trace.IsResourceAttribute).
RESOURCE_PREFIXES = ('service.', 'host.', 'process.', 'k8s.', 'container.')
RESOURCE_NAMES = ('php.fpm.pool', 'php.version')


def is_resource(key):
    return key.startswith(RESOURCE_PREFIXES) or key in RESOURCE_NAMES
KINDS = {"server": "SPAN_KIND_SERVER", "client": "SPAN_KIND_CLIENT", "internal": "SPAN_KIND_INTERNAL"}
CODES = {"error": "STATUS_CODE_ERROR", "ok": "STATUS_CODE_OK", "unset": "STATUS_CODE_UNSET"}


def b64(hex_id):
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def any_value(v):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": str(v)}


def attrs(d):
    return [{"key": k, "value": any_value(v)} for k, v in sorted(d.items())]


def tempo_trace(src):
    root = src['spans'][0]
    resource = [{"key": "service.name", "value": {"stringValue": src['service']}}]
    resource += [{"key": k, "value": any_value(v)} for k, v in sorted(root.get('attributes', {}).items())
                 if is_resource(k) and k != 'service.name']
    resource.append({"key": "telemetry.sdk.name", "value": {"stringValue": "tusk"}})
    spans = []
    for s in src['spans']:
        a = {k: v for k, v in s.get('attributes', {}).items() if not (s is root and is_resource(k))}
        o = {"traceId": b64(src['traceId']), "spanId": b64(s['spanId']), "name": s['name'], "kind": KINDS[s['kind']],
             "startTimeUnixNano": str(s['startUnixNano']), "endTimeUnixNano": str(s['startUnixNano'] + s['durationNano']),
             "attributes": attrs(a), "status": {"code": CODES[s['status']['code']]}}
        if s['status'].get('message'):
            o['status']['message'] = s['status']['message']
        if s.get('parentSpanId'):
            o['parentSpanId'] = b64(s['parentSpanId'])
        if s.get('events'):
            o['events'] = [{"timeUnixNano": str(e['timeUnixNano']), "name": e['name'], "attributes": attrs(e.get('attributes', {}))} for e in s['events']]
        spans.append(o)
    return {"trace": {"resourceSpans": [{"resource": {"attributes": resource},
                                         "scopeSpans": [{"scope": {"name": "tusk", "version": "dev"}, "spans": spans}]}]},
            "status": "complete"}


def tempo_search(search):
    return {"traces": [{"traceID": t['traceId'].lstrip('0'), "rootServiceName": t['service'],
                        "rootTraceName": (t.get('method', '') + ' ' + t['path']).strip(),
                        "startTimeUnixNano": str(t['startUnixNano']), "durationMs": t['durationNano'] // 1000000}
                       for t in search['traces']],
            "metrics": {"inspectedBytes": "32768", "completedJobs": 1, "totalJobs": 1}}


def write(name, value):
    with open(name, 'w') as f:
        json.dump(value, f, indent=2)
        f.write('\n')


write('trace-sql.json', tempo_trace(json.load(open(AGENT + 'trace-sql.json'))))
write('search.json', tempo_search(json.load(open(AGENT + 'search.json'))))
write('tags.json', {"tagNames": ["http.request.method", "url.path", "php.fpm.pool", "service.name"]})
