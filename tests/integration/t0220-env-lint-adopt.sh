#!/usr/bin/env bash
# otap env lint on a project that reads its settings through pydantic
# (tests/fixtures/realcode/fastapi-full-stack-template, pared down):
#  - the 20 settings of backend/app/core/config.py are found, each at its line
#  - with all 20 in the contract the lint is clean; two left out are named
#  - a read whose name is computed is listed as unresolved (exit 1), and the
#    lint never says every read is in the contract over it
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$SRC/tests/fixtures/realcode/fastapi-full-stack-template" "$work/t"
cd "$work/t"
settings="API_V1_STR SECRET_KEY ACCESS_TOKEN_EXPIRE_MINUTES FRONTEND_HOST FASTAPI_ENV PROJECT_NAME
SENTRY_DSN DATABASE_URL SMTP_TLS SMTP_SSL SMTP_PORT SMTP_HOST SMTP_USER SMTP_PASSWORD
EMAILS_FROM_EMAIL EMAILS_FROM_NAME EMAIL_RESET_TOKEN_EXPIRE_HOURS EMAIL_TEST_USER FIRST_SUPERUSER
FIRST_SUPERUSER_PASSWORD"
manifest() { # the contract: every setting but those given
  { printf 'project: template\nenvironments:\n  - { name: development }\n  - { name: production }\nconfig:\n'
    for s in $settings; do
      case " $* " in *" $s "*) ;; *) printf '  %s: { type: string }\n' "$s" ;; esac
    done; } >otap.yaml
}

# with an empty contract every read is a finding: the 20 settings, each where it is defined
printf 'project: template\nenvironments:\n  - { name: development }\nconfig:\n  UNUSED: { type: string }\n' >otap.yaml
set +e
"$OTAP" --json env lint backend/app/core/config.py >"$work/all.json"
rc=$?
set -e
expect_eq 1 "$rc" "reads outside an empty contract"
expect_eq "$(echo $settings | tr ' ' '\n' | sort | tr '\n' ' ')" \
  "$(jq -r '[.findings[].variable] | sort | join(" ")' "$work/all.json") " "the 20 settings of config.py"
expect_eq 23 "$(jq -r '.findings[] | select(.variable == "SECRET_KEY") | .line' "$work/all.json")" "SECRET_KEY's line"

manifest
set +e
"$OTAP" env lint backend >"$work/out" 2>&1
rc=$?
set -e
expect_eq 0 "$rc" "every setting in the contract: $(cat "$work/out")"
grep -q "every environment read is in the contract" "$work/out" || fail "$(cat "$work/out")"

manifest SMTP_HOST FIRST_SUPERUSER_PASSWORD
set +e
"$OTAP" env lint backend >"$work/out" 2>&1
rc=$?
set -e
expect_eq 1 "$rc" "two settings left out"
grep -q "backend/app/core/config.py:45:5: reads 'SMTP_HOST'" "$work/out" || fail "$(cat "$work/out")"
grep -q "backend/app/core/config.py:66:5: reads 'FIRST_SUPERUSER_PASSWORD'" "$work/out" || fail "$(cat "$work/out")"
expect_eq 2 "$(grep -c "which the config contract does not name" "$work/out")" "findings"

manifest
printf 'import os\n\ndef setting(key):\n    return os.environ.get(key)\n' >backend/app/core/dynamic.py
set +e
"$OTAP" env lint backend >"$work/out" 2>&1
rc=$?
set -e
expect_eq 1 "$rc" "a computed read"
grep -q "backend/app/core/dynamic.py:4:12: os.environ.get(key) reads a variable whose name is computed" "$work/out" || fail "$(cat "$work/out")"
grep -q "every environment read is in the contract" "$work/out" && fail "vouched over an unresolved read: $(cat "$work/out")"
grep -q "1 read otap cannot resolve" "$work/out" || fail "$(cat "$work/out")"
echo "env lint: the template's 20 pydantic settings, computed reads unresolved"
