#!/bin/sh
# Back up the event store (the tables in tables.txt) to one pg_dump custom-format file.
#
#   backup.sh DATABASE_URL FILE
#
# PGBIN: PostgreSQL client programs (default: from PATH). Consistent: pg_dump reads in one
# REPEATABLE READ snapshot, so events and the tables written with them match. Run it
# against the replica to keep the load off the primary (pg_dump works on a hot standby).
# Used by: tests/cluster (test_backup_restore_rebuild) and RUNBOOK.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
url=${1:?DATABASE_URL}
file=${2:?backup file}
bin=${PGBIN:+$PGBIN/}
set --
for table in $(sed -e 's/#.*//' "$here/tables.txt"); do
  set -- "$@" --table="public.$table"
done
"${bin}pg_dump" --dbname="$url" --format=custom --data-only --no-owner --file="$file" "$@"
echo "backed up $(sed -e 's/#.*//' -e '/^ *$/d' "$here/tables.txt" | wc -l) tables to $file"
