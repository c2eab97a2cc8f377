#!/bin/sh
# Prepare a PostgreSQL primary for streaming replication (run as the PostgreSQL system
# user, before (re)starting it). Idempotent.
#
#   PGDATA             the primary's data directory
#   REPLICATION_USER   the role replicas connect as (a role with REPLICATION LOGIN;
#                      create it with: CREATE ROLE replicator REPLICATION LOGIN PASSWORD '...')
#   REPLICA_CIDR       where replicas connect from (e.g. 10.0.2.0/24)
#   REPLICATION_AUTH   scram-sha-256 (production) or trust (loopback tests only)
#
# Used by: the cluster test (tests/cluster/harness.py) and RUNBOOK.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${PGDATA:?}" "${REPLICATION_USER:?}" "${REPLICA_CIDR:?}"
REPLICATION_AUTH=${REPLICATION_AUTH:-scram-sha-256}

cp "$here/primary.conf" "$PGDATA/kompetanse-primary.conf"
grep -q "^include_if_exists 'kompetanse-primary.conf'" "$PGDATA/postgresql.conf" ||
  echo "include_if_exists 'kompetanse-primary.conf'" >> "$PGDATA/postgresql.conf"

line=$(sed -e '/^#/d' -e '/^$/d' \
  -e "s|\${REPLICATION_USER}|$REPLICATION_USER|" \
  -e "s|\${REPLICA_CIDR}|$REPLICA_CIDR|" \
  -e "s|\${REPLICATION_AUTH}|$REPLICATION_AUTH|" "$here/pg_hba.conf")
grep -qxF "$line" "$PGDATA/pg_hba.conf" || echo "$line" >> "$PGDATA/pg_hba.conf"
echo "primary prepared in $PGDATA (restart PostgreSQL if wal_level changed)"
