#!/usr/bin/env bash
# Adopting otap on a project that already has its tools
# (tests/fixtures/realcode/fastapi-full-stack-template, pared down):
#  - otap init reads its .env and compose.yml, writes an otap.yaml that
#    otap check accepts, every guess commented; the template's shipped
#    placeholders run in development and are refused in production
#  - on a made-up repository: compose ports in every form, depends_on both
#    ways, healthcheck paths, package.json scripts as gates, Alembic and
#    dbmate folders, a PORT_REGISTRY.yaml's range and blocks
# and otap env lint on its pydantic settings:
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
# ---- otap init on the template --------------------------------------------------------
rm -f otap.yaml backend/app/core/dynamic.py
"$OTAP" init >"$work/out" 2>&1 || fail "init: $(cat "$work/out")"
grep -q "from what the repository has" "$work/out" || fail "$(cat "$work/out")"
"$OTAP" check >"$work/out" 2>&1 || fail "check of the adopted manifest: $(cat "$work/out") $(cat otap.yaml)"
grep -q "^# Written by 'otap init' from what this repository already has: .env, compose.yml." otap.yaml || fail "$(head -3 otap.yaml)"
grep -q "^  SECRET_KEY: { type: secret, placeholders_in: \[development\], required: true }   # .env:6: a secret by its name" otap.yaml ||
  fail "SECRET_KEY's guess: $(grep SECRET_KEY otap.yaml)"
grep -q "^  SMTP_PORT: { type: port }   # .env:14" otap.yaml || fail "$(grep SMTP_PORT otap.yaml)"
grep -q "^  DATABASE_URL: { type: url, schemes: \[postgresql, postgres\] }" otap.yaml || fail "$(grep DATABASE_URL otap.yaml)"
grep -q 'health: { liveness: "/api/v1/utils/health-check/" }' otap.yaml || fail "$(sed -n '/^services:/,/^config:/p' otap.yaml)"
grep -q "branches: \[master\]   # the workflows' trunk" otap.yaml || fail "the template's trunk is master: $(grep -n branches otap.yaml)"
grep -q "test-backend.yml (test-backend)" otap.yaml || fail "the workflows' jobs are not named"
"$OTAP" env check --env development >"$work/out" 2>&1 || fail "the template as shipped, in development: $(cat "$work/out")"
grep -q "warning: 'SECRET_KEY' holds a placeholder, which otap.yaml allows in development only" "$work/out" || fail "$(cat "$work/out")"
set +e
"$OTAP" env check --env production >"$work/out" 2>&1
rc=$?
set -e
expect_eq 1 "$rc" "the template's placeholders in production"
grep -q "'SECRET_KEY' holds a placeholder, not a real secret" "$work/out" || fail "$(cat "$work/out")"
expect_eq 4 "$(set +e; "$OTAP" init >/dev/null 2>&1; echo $?)" "init over an existing otap.yaml"

# ---- otap init on a made-up repository with every kind of source ------------------------
repo=$work/repo
mkdir -p "$repo/db/migrations" "$repo/api/alembic/versions" "$repo/web"
cd "$repo"
printf 'API_TOKEN=\nREDIS_URL=redis://localhost:6379/0\nWORKERS=4\nDEBUG=true\nPORT=8080\n' >.env.example
printf 'API_TOKEN=Zq8vN3xT1pL6wR9yK2mB7cF4hJ0sD5gA\nDATABASE_URL=postgres://app@localhost/app\n' >.env
cat >docker-compose.yml <<'YAML'
services:
  api:
    build: .
    ports: ["127.0.0.1:9010:8080"]
    depends_on:
      cache: { condition: service_started }
      db: { condition: service_healthy }
    healthcheck:
      test: curl -f http://localhost:8080/healthz || exit 1
    environment:
      API_TOKEN: ${API_TOKEN:?set it}
  web:
    ports:
      - target: 80
        published: 9011
    depends_on: [api]
  db:
    image: postgres:16
    ports: ["9020"]
  cache:
    image: redis:7
    ports: ["9021:6379/tcp"]
YAML
touch api/alembic/env.py api/alembic/versions/0001_init.py db/migrations/001_init.sql
printf '[project]\ndependencies = ["sqlalchemy", "asyncpg"]\n' >pyproject.toml
printf '{"scripts": {"lint": "eslint .", "test": "vitest", "dev": "vite"}}\n' >web/package.json
mkdir -p .ai/project
printf 'range: 9000-9099\nblocks:\n  data: { range: 9020-9029, purpose: "PostgreSQL, Redis" }\n  apps: { range: 9010-9019 }\n  cache: { range: 9021-9021, purpose: "Redis" }\n' \
  >.ai/project/PORT_REGISTRY.yaml
"$OTAP" -q init --project made-up
"$OTAP" check >"$work/out" 2>&1 || fail "check of the made-up repository's manifest: $(cat "$work/out") $(cat otap.yaml)"
for want in "port: 9010   # the first port it publishes" "port: 9011" "port: 9020" "port: 9021" \
  "depends_on: [cache, db]" "depends_on: [api]" 'health: { liveness: "/healthz" }' \
  "API_TOKEN: { type: secret, required: true }" "REDIS_URL: { type: url, schemes: [redis] }" \
  "WORKERS: { type: int }" "DEBUG: { type: bool }" "PORT: { type: port }" \
  "DATABASE_URL: { type: url, schemes: [postgresql, postgres] }   # .env:2" \
  "tool_scheme: postgresql+asyncpg" "migrations: db/migrations   # dbmate's folder" \
  "- name: web-lint   # web/package.json: script lint" 'run: "npm --prefix web run test"' \
  "requires: [web-lint, web-test, signoff]" "Alembic migrations in api/alembic/versions" \
  "range: 9000-9099   # .ai/project/PORT_REGISTRY.yaml" "apps: { range: 9010-9019 }" \
  'cache: { range: 9021-9021, within: data, purpose: "Redis" }'; do
  grep -qF -- "$want" otap.yaml || fail "the adopted manifest lacks '$want': $(cat otap.yaml)"
done
grep -q "web-dev" otap.yaml && fail "a dev server became a gate"
"$OTAP" -q init --template --manifest blueprint.yaml
grep -q "range: 9000-9099" blueprint.yaml || fail "--template did not write the blueprint"
echo "env lint: the template's 20 pydantic settings, computed reads unresolved; init adopts"
