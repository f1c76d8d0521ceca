"""How the psycopg connection pool (settings DATABASES ``OPTIONS["pool"]``) tests a connection
before a request gets it.

After PostgreSQL restarts, every connection idle in the pool is dead, though the pool cannot know
it until it uses one: without a check, the first query on each of them fails. README "Database
outages" tells the whole story and the measured cost.
"""

import time

from psycopg_pool import ConnectionPool

# A connection handed out less than this long ago is not tested again: a database cannot stop
# and start again in that time, and under load, when every connection goes round within a few
# milliseconds, the check then costs nothing.
RECENT = 0.1


def check_connection(conn) -> None:
    """psycopg's own check (an empty query: one round trip) for a connection not handed out in
    the last ``RECENT`` seconds, and when it fails, the pool's other idle connections are
    replaced at once as well.

    A failed check makes psycopg discard the connection, pause about a second and take the next
    one: after a restart that next one is just as dead, so a request would try the stale
    connections one by one, pausing longer each time, until its wait ran out. Draining the pool
    on the first failure means the next try gets a fresh connection.
    """
    now = time.monotonic()
    handed_out, conn._portal_handed_out = getattr(conn, "_portal_handed_out", None), now
    if handed_out is not None and now - handed_out < RECENT:
        return
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        # The pool marks each connection it hands out as its own (psycopg_pool sets ``_pool``).
        pool = getattr(conn, "_pool", None)
        if pool is not None:
            pool.drain()
        raise
