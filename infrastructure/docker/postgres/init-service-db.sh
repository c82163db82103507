#!/bin/sh
# Mounted into each PostgreSQL container of docker-compose.yml as
# /docker-entrypoint-initdb.d/10-shop.sh: the postgres image runs it once,
# on an empty data folder, as the superuser. It gives the container what
# scripts/lib/fleet.sh pg_ensure_roles gives the native cluster for one
# service: a login role SHOP_DB_ROLE (not a superuser) with the password
# SHOP_DB_PASSWORD, owning the database SHOP_DB_NAME, which only it may
# connect to (CONNECT revoked from PUBLIC there and on postgres/template1).
# pg_trgm is a trusted extension in PostgreSQL 15: the owner creates it in
# its own migration.
#
# The image sources *.sh files that are not executable, so this script
# avoids `set -u` and `exit`; a missing variable stops the init with
# `${VAR:?}`, and psql's ON_ERROR_STOP (with the entrypoint's `set -e`)
# stops it on any SQL error. A password changed in .env afterwards does not
# reach an existing volume: `docker compose down -v` starts afresh.
: "${SHOP_DB_ROLE:?SHOP_DB_ROLE is not set}"
: "${SHOP_DB_NAME:?SHOP_DB_NAME is not set}"
: "${SHOP_DB_PASSWORD:?SHOP_DB_PASSWORD is not set}"

psql -X -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
	-v role="$SHOP_DB_ROLE" -v db="$SHOP_DB_NAME" -v pw="$SHOP_DB_PASSWORD" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'pw';
CREATE DATABASE :"db" OWNER :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"role";
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
SQL
echo "shop: role $SHOP_DB_ROLE owns $SHOP_DB_NAME (CONNECT for it only)"
