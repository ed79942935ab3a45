# the config contract of the example project
cp "$EXAMPLE" otap.yaml && cp "$(dirname "$EXAMPLE")/.env.example" . && otap env sync --check
otap env check --env development
DATABASE_URL=postgres://app@127.0.0.1:9020/app otap env check --env development
DATABASE_URL=postgres://app@127.0.0.1:9020/app otap env show --env dev
otap env check --env nope
otap env check
otap env show --env development --reveal
otap env frob
otap env
otap run --env development
otap run --env development true
otap env example | head -12
# a copied .env.example: empty values count as not set
cp .env.example .env && otap env check --env development
# --reveal shows a secret on a terminal only; otherwise it is never shown
JWT_SECRET=Zq8vN3xT1pL6wR9yK2mB7cF4hJ0sD5gA DATABASE_URL=postgresql://h/db script -qec "otap env show --env development --reveal" /dev/null | tr -d '\r' | grep SECRET_KEY
JWT_SECRET=Zq8vN3xT1pL6wR9yK2mB7cF4hJ0sD5gA DATABASE_URL=postgresql://h/db script -qec "otap env show --env development" /dev/null | tr -d '\r' | grep SECRET_KEY
