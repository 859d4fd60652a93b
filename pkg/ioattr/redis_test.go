package ioattr

import "testing"

func TestRedisCommandName(t *testing.T) {
	for method, want := range map[string]string{
		"get": "GET", "set": "SET", "hGetAll": "HGETALL", "HSET": "HSET", "hSet": "HSET", "incr": "INCR",
		"zRangeByScore": "ZRANGEBYSCORE", "del": "DEL", "delete": "DEL", "Delete": "DEL", "unlink": "UNLINK",
		"lSize": "LLEN", "setTimeout": "EXPIRE", "getMultiple": "MGET", "sContains": "SISMEMBER",
		"evaluate": "EVAL", "multi": "MULTI", "exec": "EXEC",
		"connect": "", "pconnect": "", "close": "", "setOption": "", "pipeline": "", "rawCommand": "",
		"": "", "get key": "", "héllo": "",
	} {
		if got := RedisCommandName(method); got != want {
			t.Errorf("RedisCommandName(%q) = %q, want %q", method, got, want)
		}
	}
}
