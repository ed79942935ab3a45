# Shared helpers for shell tests: sourced, never run.
#
#   free_port LO HI       print a TCP port in [LO, HI] nothing listens on
#   wait_http URL CODE S  poll URL until it answers CODE, at most S seconds
#   fail MSG              print MSG and exit 1
#   expect_eq WANT HAVE WHAT

fail() { echo "FAIL: $*" >&2; exit 1; }

expect_eq() {
  [ "$1" = "$2" ] || fail "$3: want '$1', have '$2'"
}

# A port nothing listens on. Picks at random so parallel tests rarely
# collide; a collision still fails loudly at bind time. Tests take ports
# below 32768: above it the kernel hands out source ports of outgoing
# connections (ip_local_port_range), which a server then cannot bind.
free_port() {
  local lo=${1:-20000} hi=${2:-29999} p i
  for i in $(seq 1 200); do
    p=$((lo + RANDOM % (hi - lo + 1)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  return 1
}

# Polls (no fixed sleep) until URL answers with CODE.
wait_http() {
  local url=$1 want=$2 secs=${3:-20} code deadline
  deadline=$((SECONDS + secs))
  while [ "$SECONDS" -lt "$deadline" ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
    [ "$code" = "$want" ] && return 0
    sleep 0.1
  done
  echo "wait_http: $url answered '$code', not $want, within ${secs}s" >&2
  return 1
}
