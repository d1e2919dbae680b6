-- One owner for the app's tables, whichever PostgreSQL Entra administrator runs the migrations (the azd user, the
-- pipeline's service principal, a colleague): the NOLOGIN role storefront_owner. Every administrator is a member
-- through azure_pg_admin (Entra administrators belong to it), and infra/migrate.sh runs DbUp as storefront_owner
-- (Options=-c role=storefront_owner), so objects a migration creates belong to it. Without it each administrator
-- would own the tables it created, and another administrator's later ALTER would fail: administrators are not
-- superusers. Idempotent; run before the migrations as an Entra administrator, connected to the app's database:
--
--   psql "host=<postgresHost> port=5432 dbname=storefront user=<admin name> sslmode=require" -v ON_ERROR_STOP=1 \
--        -v administrators=azure_pg_admin -f infra/modules/postgres-schema-owner.sql

SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'storefront_owner') AS missing \gset
\if :missing
CREATE ROLE storefront_owner NOLOGIN;
\endif

-- Granted once, by the administrator that created the role (it holds the admin option).
SELECT NOT pg_has_role(:'administrators', 'storefront_owner', 'MEMBER') AS ungranted \gset
\if :ungranted
GRANT storefront_owner TO :"administrators";
\endif

SELECT NOT has_schema_privilege('storefront_owner', 'public', 'CREATE') AS cannot_create \gset
\if :cannot_create
GRANT USAGE, CREATE ON SCHEMA public TO storefront_owner;
\endif

-- Objects this administrator created before (migrations run as itself) move to the owner role; indexes and
-- identity sequences follow their tables.
DO $$
DECLARE
  statement text;
BEGIN
  FOR statement IN
    SELECT format('ALTER %s %s OWNER TO storefront_owner',
                  CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                  c.oid::regclass)
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public'
      AND c.relowner = current_user::regrole
      AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
    UNION ALL
    SELECT format('ALTER ROUTINE %s OWNER TO storefront_owner', p.oid::regprocedure)
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND p.proowner = current_user::regrole
  LOOP
    EXECUTE statement;
  END LOOP;
END
$$;
