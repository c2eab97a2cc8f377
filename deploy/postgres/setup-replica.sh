#!/bin/sh
# Create and start a streaming replica of the primary (run as the PostgreSQL system user).
#
#   PGBIN             PostgreSQL's bin directory (the same major version as the primary;
#                     for the embedded wheel: python -c 'from services.embedded import
#                     postgres_bin_dir; print(postgres_bin_dir())')
#   PRIMARY_HOST, PRIMARY_PORT, REPLICATION_USER   where and as whom to stream from
#                     (password from ~/.pgpass or PGPASSWORD)
#   REPLICA_DATA      the new replica's data directory (must not exist or be empty)
#   REPLICA_PORT      the port the replica listens on
#   REPLICA_SLOT      physical replication slot created on the primary (e.g. replica1)
#   REPLICA_LISTEN    listen_addresses of the replica (default: localhost)
#   START             "yes" (default) to start the replica with pg_ctl; "no" under systemd
#
# Used by: the cluster test (tests/cluster/harness.py) and RUNBOOK.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${PGBIN:?}" "${PRIMARY_HOST:?}" "${PRIMARY_PORT:?}" "${REPLICATION_USER:?}"
: "${REPLICA_DATA:?}" "${REPLICA_PORT:?}" "${REPLICA_SLOT:?}"
REPLICA_LISTEN=${REPLICA_LISTEN:-localhost}
START=${START:-yes}

# -R writes standby.signal and primary_conninfo; -C -S creates the slot on the primary so
# the primary keeps the WAL this replica has not received yet; -X stream copies the WAL
# written during the backup, so the copy is consistent on its own.
"$PGBIN/pg_basebackup" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$REPLICATION_USER" \
  -D "$REPLICA_DATA" -R -X stream -C -S "$REPLICA_SLOT" --checkpoint=fast --no-password
chmod 700 "$REPLICA_DATA"

cp "$here/replica.conf" "$REPLICA_DATA/kompetanse-replica.conf"
# The base backup copied the primary's own include of its fragment; a replica uses its own.
rm -f "$REPLICA_DATA/kompetanse-primary.conf"
{
  echo "include_if_exists 'kompetanse-replica.conf'"
  echo "port = $REPLICA_PORT"
  echo "listen_addresses = '$REPLICA_LISTEN'"
} >> "$REPLICA_DATA/postgresql.conf"
# Settings the primary set through ALTER SYSTEM / postgresql.auto.conf travel with the
# copy; the replica's port must win over them.
sed -i -e '/^port *=/d' -e '/^listen_addresses *=/d' "$REPLICA_DATA/postgresql.auto.conf"

if [ "$START" = yes ]; then
  "$PGBIN/pg_ctl" -D "$REPLICA_DATA" -l "$REPLICA_DATA/server.log" -w -t 60 start
fi
echo "replica of $PRIMARY_HOST:$PRIMARY_PORT in $REPLICA_DATA, port $REPLICA_PORT"
