"""The feed's horizon counts only transactions that append events (services/store/horizon.py).

``join_feed()`` takes the feed's shared lock for the rest of the transaction, refusing a
transaction that has written already (a reader could have passed its id before it joined).
A statement trigger on ``events`` calls it before any row of an INSERT is formed (before the
column default gives the transaction its id), so every way of appending joins: the store,
older code, an operator's manual INSERT.
"""

from alembic import op

revision = "0009"
down_revision = "0008"

FEED_LOCK_CLASS = 0x6B66  # services.store.horizon.FEED_LOCK_CLASS


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION join_feed() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            IF pg_current_xact_id_if_assigned() IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'
                AND classid = {FEED_LOCK_CLASS} AND objid = 0 AND objsubid = 2
            ) THEN
                RAISE EXCEPTION 'this transaction wrote before it joined the feed'
                    USING ERRCODE = 'KF001';
            END IF;
            PERFORM pg_advisory_xact_lock_shared({FEED_LOCK_CLASS}, 0);
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION events_join_feed() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
        BEGIN
            PERFORM join_feed();
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER events_join_feed BEFORE INSERT ON events "
        "FOR EACH STATEMENT EXECUTE FUNCTION events_join_feed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER events_join_feed ON events")
    op.execute("DROP FUNCTION events_join_feed()")
    op.execute("DROP FUNCTION join_feed()")
