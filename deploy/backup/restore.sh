#!/bin/sh
# Restore an event-store backup into a fresh, migrated database, then rebuild every read
# model from the restored events.
#
#   restore.sh DATABASE_URL FILE
#
# DATABASE_URL must name an existing, EMPTY database. KOMPETANSE: the kompetanse command
# (default: kompetanse on PATH). PGBIN: PostgreSQL client programs (default: from PATH).
# Steps: 1. schema (kompetanse migrate)  2. the record's rows (pg_restore --data-only,
# sequences included, so new events continue after the restored positions), between
# `kompetanse restore prepare` and `finish`, which rebase the feed's transaction ids
# (services/store/restore.py: the restored cluster's own ids may be lower)
# 3. read models (kompetanse rebuild). Stop the API, relay and projectors first; start them
# against the restored database afterwards (RUNBOOK.md "Restore from backup").
# Used by: tests/cluster (test_backup_restore_rebuild) and RUNBOOK.md.
set -eu
url=${1:?DATABASE_URL}
file=${2:?backup file}
bin=${PGBIN:+$PGBIN/}
kompetanse=${KOMPETANSE:-kompetanse}

export DATABASE_URL="$url"
$kompetanse migrate
$kompetanse restore prepare
"${bin}pg_restore" --dbname="$url" --data-only --no-owner --single-transaction "$file"
$kompetanse restore finish
$kompetanse rebuild
echo "restored $file into the database and rebuilt the read models"
