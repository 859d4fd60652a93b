package probes

// FastCGI params copied at request start, in the order of the BPF event's
// params array (TUSK_FCGI_PARAMS).
const (
	paramRequestURI = iota
	paramHost
	paramTraceParent
	paramRequestID
	numParams
)

var fcgiParamNames = [numParams]string{
	paramRequestURI:  "REQUEST_URI",
	paramHost:        "HTTP_HOST",
	paramTraceParent: "HTTP_TRACEPARENT",
	paramRequestID:   "HTTP_X_REQUEST_ID",
}

// fcgiHash is php-fpm's FCGI_HASH_FUNC (main/fastcgi.h), which picks the
// bucket a param lives in.
func fcgiHash(name string) uint32 {
	n := uint32(len(name))
	if n < 3 {
		return n
	}
	return uint32(name[3])<<2 + uint32(name[n-2])<<4 + uint32(name[n-1])<<2 + n
}

func fcgiParamTable() [numParams]requestFcgiParam {
	var t [numParams]requestFcgiParam
	for i, name := range fcgiParamNames {
		t[i].Bucket = fcgiHash(name)
		t[i].Len = uint32(len(name))
		for j := 0; j < len(name) && j < len(t[i].Name)-1; j++ {
			t[i].Name[j] = int8(name[j])
		}
	}
	return t
}
