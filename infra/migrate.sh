#!/usr/bin/env bash
# Migrates the Azure database and makes the app identity a database principal. Run by the deploy workflow and by
# azd's postprovision hook, as a PostgreSQL Entra administrator whose Entra token is in PGPASSWORD (passwords are
# disabled on the server), from an address the server's firewall (or private endpoint) lets in:
#
#   PGPASSWORD="$(az account get-access-token --resource-type oss-rdbms --query accessToken --output tsv)" \
#     infra/migrate.sh <postgresHost> <postgresDatabaseName> <administrator name> <identityName>
#
# Whoever the administrator is, the tables belong to storefront_owner (modules/postgres-schema-owner.sql).
set -euo pipefail

if [[ $# -ne 4 ]]; then
  echo "usage: $0 <postgres host> <database> <administrator name> <app identity name>" >&2
  exit 2
fi
host=$1 database=$2 administrator=$3 identity=$4
: "${PGPASSWORD:?PGPASSWORD must hold an Entra access token of the administrator (resource type oss-rdbms)}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v psql >/dev/null 2>&1; then
  echo "psql is required (Debian/Ubuntu: apt-get install postgresql-client)" >&2
  exit 1
fi

# Entra administrators are members of azure_pg_admin; the owner role is granted to that group, so to all of them.
psql "host=$host port=5432 dbname=$database user=$administrator sslmode=require" -v ON_ERROR_STOP=1 \
  -v administrators=azure_pg_admin -f infra/modules/postgres-schema-owner.sql

# Directly on 5432, not PgBouncer: DbUp takes a session-level lock and runs DDL. The role option makes the session
# act as storefront_owner from its start, so everything the scripts (and DbUp's journal) create belongs to it.
dotnet run --project functions/Storefront.Migrations -c Release -- migrate \
  --connection "Host=$host;Port=5432;Database=$database;Username=$administrator;Password=$PGPASSWORD;SSL Mode=VerifyFull;Options=-c role=storefront_owner"

psql "host=$host port=5432 dbname=postgres user=$administrator sslmode=require" -v ON_ERROR_STOP=1 \
  -v identity="$identity" -v database="$database" -f infra/modules/postgres-app-principal.sql
