-- Makes the function app's managed identity a PostgreSQL role (an Entra principal) and grants it the app's data
-- access: ARM cannot create roles inside PostgreSQL, so this runs after the migrations. Idempotent.
-- Run (by infra/migrate.sh) as an Entra administrator with an Entra token as the password, connected to the
-- "postgres" database:
--
--   export PGPASSWORD="$(az account get-access-token --resource-type oss-rdbms --query accessToken -o tsv)"
--   psql "host=<postgresHost> port=5432 dbname=postgres user=<admin name> sslmode=require" -v ON_ERROR_STOP=1 \
--        -v identity=<identityName output> -v database=storefront -f infra/modules/postgres-app-principal.sql
--
-- The role name must be the identity's name: pgaadauth_create_principal looks the principal up in Entra by it,
-- and the app logs in with it (app setting Postgres__Username).

SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'identity') AS missing \gset
\if :missing
SELECT * FROM pgaadauth_create_principal(:'identity', false, false);
\endif

GRANT CONNECT ON DATABASE :"database" TO :"identity";

\connect :database

-- Data access only: the tables belong to storefront_owner (postgres-schema-owner.sql), which the migrations run as;
-- the default privileges cover the tables later migrations create.
GRANT USAGE ON SCHEMA public TO :"identity";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"identity";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO :"identity";
ALTER DEFAULT PRIVILEGES FOR ROLE storefront_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"identity";
ALTER DEFAULT PRIVILEGES FOR ROLE storefront_owner IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"identity";
