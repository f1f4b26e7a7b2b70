#!/bin/sh
# Creates the secret files deploy/compose.yaml reads (deploy/secrets/, never committed):
# a random PostgreSQL password, the database URL that uses it, and termgate's secret key.
# Refuses to overwrite: the secret key encrypts the signing keys and signs sessions
# (docs/operations.md, "Backup and restore").
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets tls
for name in postgres_password database_url secret_key; do
    if [ -e "secrets/$name" ]; then
        echo "error: secrets/$name exists; not overwritten" >&2
        exit 1
    fi
done
random() { python3 -c "import secrets; print(secrets.token_urlsafe($1))"; }
password=$(random 32)
printf '%s\n' "$password" > secrets/postgres_password
printf 'postgresql+asyncpg://termgate:%s@postgres:5432/termgate\n' "$password" > secrets/database_url
random 48 > secrets/secret_key
# Compose mounts each file as it is: the containers' users (termgate 10001, postgres 999) must
# read it, so the files are world-readable and the folder, mode 0700, keeps other host users out.
chmod 0700 secrets
chmod 0444 secrets/postgres_password secrets/database_url secrets/secret_key
echo "written: secrets/postgres_password secrets/database_url secrets/secret_key"
