#!/usr/bin/env bash
# otap serve, the real server on 127.0.0.1: its health contract, the role
# matrix over every route, malformed JSON, oversized bodies and headers,
# request ids, a slow client cut off by the idle timeout, SIGTERM while a
# request is in flight (it completes; the server exits 0), JSON access
# logs that never hold a token, and /metrics checked by Prometheus' own
# parser (promtool).
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

work=$(mktemp -d)
srv=
cleanup() {
  [ -n "$srv" ] && kill -9 "$srv" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
port=$(free_port 24000 24999)
cat >otap.yaml <<EOF
project: served
environments:
  - { name: development, marker: dev }
  - { name: staging, marker: dev, requires: [signoff] }
  - { name: production, marker: prod, protected: true }
services:
  otap: { port: $port }
EOF
tok() { "$OTAP" serve token add "$1" --role "$2" 2>/dev/null; }
viewer=$(tok ci viewer)
deployer=$(tok deploy-bot deployer)
admin=$(tok root admin)
[[ "$viewer" =~ ^otap_[0-9a-f]{64}$ ]] || fail "token format: $viewer"
grep -q "$viewer" .otap/tokens && fail "a token is stored in clear"
expect_eq 600 "$(stat -c %a .otap/tokens)" "tokens file mode"
set +e; "$OTAP" serve token add ci --role admin >/dev/null 2>&1; rc=$?; set -e
expect_eq 4 "$rc" "a taken token name"

start() {
  "$OTAP" serve --env staging --max-body 4096 --idle-timeout 1s "$@" 2>>"$work/log" &
  srv=$!
  wait_http "http://127.0.0.1:$port/health" 200 20
}
start
base=http://127.0.0.1:$port
code() { # METHOD PATH TOKEN [BODY]
  local auth=()
  [ -n "$3" ] && auth=(-H "Authorization: Bearer $3")
  curl -s -o "$work/body" -w '%{http_code}' -X "$1" "${auth[@]}" ${4:+--data-binary "$4"} "$base$2"
}

# ---- its own health contract ------------------------------------------------
expect_eq 200 "$(code GET /health '')" "liveness"
body=$(curl -s "$base/api/v2/health")
expect_eq "healthy staging" "$(jq -r '"\(.status) \(.environment)"' <<<"$body")" "health body"
jq -e '.version and .timestamp' <<<"$body" >/dev/null || fail "health: $body"
expect_eq 200 "$(code GET /api/v2/ready '')" "ready"
# otap probe holds it to the same contract as any service
"$OTAP" probe --env development "$base/health" >/dev/null || fail "otap probe of otap serve"

# ---- the role matrix: none, a bad token, viewer, deployer, admin --------------
matrix() { # METHOD PATH BODY WANT...
  local m=$1 p=$2 b=$3; shift 3
  local i=0 t
  for t in "" "otap_$(printf '0%.0s' $(seq 1 64))" "$viewer" "$deployer" "$admin"; do
    expect_eq "$1" "$(code "$m" "$p" "$t" "$b")" "$m $p as caller $i"
    shift; i=$((i + 1))
  done
}
matrix GET /health "" 200 200 200 200 200
matrix GET /metrics "" 401 401 200 200 200
matrix GET /api/v2/environments "" 401 401 200 200 200
matrix GET /api/v2/environments/production "" 401 401 200 200 200
matrix GET /api/v2/whoami "" 401 401 200 200 200
# a deployer's write: the role passes, the body is then judged (400)
matrix POST /api/v2/gates '{"a":1}' 401 401 403 400 400
matrix GET /api/v2/tokens "" 401 401 403 403 200
code GET /api/v2/tokens "$viewer" >/dev/null
expect_eq forbidden "$(jq -r .error.code "$work/body")" "403 body is a JSON error"
code GET /metrics "" >/dev/null
expect_eq unauthorized "$(jq -r .error.code "$work/body")" "401 body is a JSON error"
curl -s -D - -o /dev/null "$base/metrics" | grep -qi '^WWW-Authenticate: Bearer' || fail "no WWW-Authenticate"
code GET /api/v2/whoami "$deployer" >/dev/null
expect_eq "deploy-bot deployer" "$(jq -r '"\(.name) \(.role)"' "$work/body")" "whoami"
expect_eq 404 "$(code GET /api/v2/environments/nowhere "$viewer")" "unknown environment"
expect_eq 404 "$(code GET /nope '')" "unknown path"
expect_eq 405 "$(code DELETE /api/v2/environments "$admin")" "wrong method"

# ---- bad input: malformed JSON, not an object, too large ------------------------
expect_eq 400 "$(code POST /api/v2/gates "$deployer" '{"a": [1, 2')" "malformed JSON"
expect_eq bad_json "$(jq -r .error.code "$work/body")" "malformed JSON code"
jq -r .error.message "$work/body" | grep -q "line 1, column" || fail "no position: $(cat "$work/body")"
expect_eq 400 "$(code POST /api/v2/gates "$deployer" '[1]')" "a JSON array"
expect_eq 400 "$(code POST /api/v2/gates "$deployer" '{"a":1,"a":2}')" "duplicate keys"
big=$(head -c 10000 /dev/zero | tr '\0' 'x')
expect_eq 413 "$(code POST /api/v2/gates "$deployer" "{\"x\":\"$big\"}")" "a body over --max-body"
# the same without Content-Length (chunked): still cut at the limit
c=$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $deployer" \
  -H "Transfer-Encoding: chunked" --data-binary "{\"x\":\"$big\"}" "$base/api/v2/gates" || true)
expect_eq 413 "$c" "a chunked body over --max-body"
hdr=$(head -c 20000 /dev/zero | tr '\0' 'h')
c=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Junk: $hdr" "$base/health" || true)
[ "$c" -ge 400 ] && [ "$c" -lt 500 ] || fail "oversized header answered $c"

# ---- request ids --------------------------------------------------------------
rid=$(curl -s -D - -o /dev/null -H "X-Request-Id: trace-42" "$base/health" | tr -d '\r' | sed -n 's/^X-Request-Id: //Ip')
expect_eq trace-42 "$rid" "request id kept"
rid=$(curl -s -D - -o /dev/null -H 'X-Request-Id: bad id "x"' "$base/health" | tr -d '\r' | sed -n 's/^X-Request-Id: //Ip')
[[ "$rid" =~ ^[0-9a-f]{16}$ ]] || fail "an unsafe request id was not replaced: '$rid'"

# ---- a slow client is cut off by the idle timeout -------------------------------
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /health HTTP/1.1\r\nHost: x\r\n' >&3
t0=$SECONDS
set +e; timeout 10 cat <&3 >/dev/null; rc=$?; set -e
exec 3>&- 3<&- || true
[ "$rc" -ne 124 ] || fail "a stalled client was not cut off within 10 s"
[ $((SECONDS - t0)) -le 5 ] || fail "the idle timeout took $((SECONDS - t0)) s"

# ---- /metrics through Prometheus' own parser -------------------------------------
curl -s -H "Authorization: Bearer $viewer" "$base/metrics" >"$work/metrics.txt"
promtool check metrics <"$work/metrics.txt" || fail "promtool rejects /metrics"
grep -q '^otap_http_requests_total{route="/api/v2/gates",status="413"} 2$' "$work/metrics.txt" \
  || fail "request counter: $(grep requests_total "$work/metrics.txt")"
grep -q '^otap_build_info{version=' "$work/metrics.txt" || fail "no build info"
grep -q '^otap_http_request_duration_seconds_bucket{route="/health",le="+Inf"}' "$work/metrics.txt" || fail "no histogram"

# ---- access logs: one JSON line per request, never a token ------------------------
while IFS= read -r line; do
  jq -e . <<<"$line" >/dev/null 2>&1 || fail "not a JSON line: $line"
done <"$work/log"
grep -v '"event"' "$work/log" | while IFS= read -r line; do
  jq -e '.request_id and .status and .route and (.duration_ms >= 0)' <<<"$line" >/dev/null \
    || fail "not an access log line: $line"
done
grep -q '"request_id":"trace-42"' "$work/log" || fail "request id not logged"
# a clean start says only that it listens: libmicrohttpd has nothing to complain about
expect_eq listening "$(head -n 1 "$work/log" | jq -r .event)" "the first log line"
grep -q '"event":"http_error","message":"MHD_OPTION' "$work/log" && fail "libmicrohttpd complains about its options"
for t in "$viewer" "$deployer" "$admin"; do grep -q "$t" "$work/log" && fail "a token reached the log"; done

# ---- SIGTERM while a request is in flight: it completes, then the server exits 0 ---
# (a server whose idle timeout does not cut the deliberately slow upload short)
kill -TERM "$srv"; wait "$srv" || true; srv=
start --idle-timeout 30s
payload=$(printf '{"x":"%s","gate":"nope","artifact":"a","result":"pass"}' "$(head -c 3000 /dev/zero | tr '\0' 'y')")
curl -s -o "$work/slow.out" -w '%{http_code}' --limit-rate 1000 -H "Authorization: Bearer $deployer" \
  --data-binary "$payload" "$base/api/v2/gates" >"$work/slow.code" &
slow=$!
# in flight: the slow request and this /metrics request itself
for _ in $(seq 1 100); do
  grep -q '^otap_http_requests_in_flight 2$' <(curl -s -H "Authorization: Bearer $viewer" "$base/metrics") && break
  sleep 0.05
done
kill -TERM "$srv"
wait "$slow"
# judged after the last byte: the gate named at the end of the body was read
expect_eq 400 "$(cat "$work/slow.code")" "the request in flight during SIGTERM"
jq -r .error.message "$work/slow.out" | grep -q "no gate 'nope'" || fail "the body did not arrive whole: $(cat "$work/slow.out")"
set +e; wait "$srv"; rc=$?; set -e
srv=
expect_eq 0 "$rc" "exit status after SIGTERM"
grep -q '"event":"stopped"' "$work/log" || fail "no stop event: $(tail -3 "$work/log")"
c=$(curl -s -o /dev/null -w '%{http_code}' "$base/health" || true)
expect_eq 000 "$c" "nothing listens after the stop"

# ---- anonymous read, only when asked for --------------------------------------------
start --allow-anonymous-read
expect_eq 200 "$(code GET /api/v2/environments '')" "anonymous read"
expect_eq 401 "$(code POST /api/v2/gates '' '{}')" "anonymous write"
expect_eq 401 "$(code GET /api/v2/environments "otap_bad")" "a bad token is still refused"
kill -TERM "$srv"; wait "$srv" || true; srv=
echo "t0500: ok"
