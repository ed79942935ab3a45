# otap db without a database server: lint, new, usage, and SQLite end to end
cp "$EXAMPLE" otap.yaml && cp -r "$(dirname "$EXAMPLE")/db" . && otap db lint
otap db lint db/migrations/20261102090000_create_orders.sql
printf -- '-- migrate:up\nALTER TABLE users ADD COLUMN age int NOT NULL;\nCREATE INDEX users_age ON users (age);\n' >20261201000000_age.sql && otap db lint 20261201000000_age.sql
otap --json db lint 20261201000000_age.sql | jq -c '.findings[] | [.rule, .line, .acknowledged]'
printf -- 'SELECT 1;\n-- migrate:up\nSELECT $$open;\n' >20261201000001_broken.sql && otap db lint 20261201000001_broken.sql
otap db
otap db frob
otap db migrate
otap db migrate --env nowhere
otap db status --env development
DATABASE_URL=mysql://u@h/db otap db status --env development
DATABASE_URL=postgresql://app:hunter2-secret@127.0.0.1:1/app otap db status --env development
otap db marker
otap db new
otap db new 'bad/name'
otap db new "Add audit log" | sed 's/[0-9]\{14\}/VERSION/'
# SQLite: migrate, status, a refused environment, rollback
mkdir lite && cd lite && printf 'project: lite\nenvironments:\n  - { name: development, marker: dev }\n  - { name: production, marker: prod, protected: true }\nconfig:\n  DATABASE_URL: { type: url, schemes: [sqlite] }\ndatabase: { url: DATABASE_URL }\n' >otap.yaml && mkdir -p db/migrations && printf -- '-- migrate:up\nCREATE TABLE t (id int);\n-- migrate:down\nDROP TABLE t;\n' >db/migrations/20260101000000_t.sql && DATABASE_URL=sqlite:dev.db otap db migrate --env development 2>&1 | sed 's/[0-9]* ms/N ms/'
cd lite && DATABASE_URL=sqlite:dev.db otap db status --env development | sed 's/20[0-9-]*T[0-9:]*Z/TIME/'
cd lite && DATABASE_URL=sqlite:dev.db ENVIRONMENT=production CONFIRM_PROD_MIGRATE=YES otap db migrate --env production
cd lite && DATABASE_URL=sqlite:dev.db otap db rollback --env production
cd lite && DATABASE_URL=sqlite:dev.db otap -q db rollback --env development | sed 's/[0-9]* ms/N ms/'
