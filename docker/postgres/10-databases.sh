#!/bin/sh
# First start only (empty data volume): one role and database for the application, one for Prefect.
# The superuser (POSTGRES_PASSWORD) is never used by either.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v iop_pw="$IOP_DB_PASSWORD" -v prefect_pw="$PREFECT_DB_PASSWORD" <<'SQL'
CREATE ROLE iop LOGIN PASSWORD :'iop_pw';
CREATE DATABASE iop OWNER iop;
CREATE ROLE prefect LOGIN PASSWORD :'prefect_pw';
CREATE DATABASE prefect OWNER prefect;
SQL
