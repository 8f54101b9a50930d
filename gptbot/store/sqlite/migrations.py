"""The SQLite schema, as an append-only list of migrations (PRAGMA user_version)."""

# Append only: each entry upgrades the schema by one version.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE jobs (
        key TEXT PRIMARY KEY,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX jobs_state_updated ON jobs (state, updated_at);
    """,
    """
    CREATE TABLE turns (
        conversation TEXT NOT NULL,
        id TEXT NOT NULL,
        asked_at REAL NOT NULL,
        user_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        PRIMARY KEY (conversation, id)
    );
    CREATE INDEX turns_order ON turns (conversation, asked_at);
    CREATE TABLE summaries (conversation TEXT PRIMARY KEY, summary TEXT NOT NULL);
    CREATE TABLE channel_settings (
        cid TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (cid, name)
    );
    CREATE TABLE stops (scope TEXT PRIMARY KEY, at REAL NOT NULL);
    """,
    # 3: limits. Counters and once-marks share one table (a mark is a counter of 1);
    # a row whose expires_at has passed reads as absent until it is pruned.
    """
    CREATE TABLE counters (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE INDEX counters_expires ON counters (expires_at);
    CREATE TABLE buckets (name TEXT PRIMARY KEY, tokens REAL NOT NULL, at REAL NOT NULL);
    """,
    # 4: the usage ledger, one row per model call; `id` keeps identical rows apart and in order.
    """
    CREATE TABLE ledger (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        reply_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        purpose TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        cached_input_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        estimated INTEGER NOT NULL,
        cost_usd REAL,
        first_token_s REAL,
        total_s REAL NOT NULL,
        outcome TEXT NOT NULL
    );
    CREATE INDEX ledger_at ON ledger (at);
    """,
    # 5: the answer cache, keyed by an opaque hash; a row whose expires_at has passed reads
    # as absent until it is pruned.
    """
    CREATE TABLE answers (
        key TEXT PRIMARY KEY,
        answer TEXT NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE INDEX answers_expires ON answers (expires_at);
    """,
    # 6: job attempts, the reason a job failed (or its last attempt did), the running owner.
    """
    ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN reason TEXT NOT NULL DEFAULT '';
    ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
    CREATE INDEX jobs_updated ON jobs (updated_at);
    """,
    # 7: the audit log, one record per reply (a re-run replaces it), and the indexes that
    # retention and forget-me use. `moderation` is a JSON list.
    """
    CREATE TABLE audit (
        reply_id TEXT PRIMARY KEY,
        at REAL NOT NULL,
        user_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cost_usd REAL,
        outcome TEXT NOT NULL,
        moderation TEXT NOT NULL
    );
    CREATE INDEX audit_at ON audit (at);
    CREATE INDEX audit_user ON audit (user_id);
    CREATE INDEX turns_user ON turns (user_id);
    CREATE INDEX turns_asked_at ON turns (asked_at);
    CREATE INDEX ledger_user ON ledger (user_id);
    """,
    # 8: whose turns each summary was made from, so forget-me can delete those summaries.
    """
    CREATE TABLE summary_users (
        conversation TEXT NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (conversation, user_id)
    );
    CREATE INDEX summary_users_user ON summary_users (user_id);
    """,
    # 9: votes (👍/👎) on the bot's replies, one per person and reply.
    """
    CREATE TABLE votes (
        at REAL NOT NULL,
        reply_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        vote INTEGER NOT NULL,
        model TEXT NOT NULL,
        persona TEXT NOT NULL,
        cost_usd REAL,
        PRIMARY KEY (reply_id, user_id)
    );
    CREATE INDEX votes_at ON votes (at);
    CREATE INDEX votes_user ON votes (user_id);
    """,
    # 10: each conversation's questions in the order they were asked (answers one by one).
    """
    CREATE TABLE turn_order (
        conversation TEXT NOT NULL,
        key TEXT NOT NULL,
        asked_at REAL NOT NULL,
        PRIMARY KEY (conversation, key)
    );
    CREATE INDEX turn_order_asked ON turn_order (conversation, asked_at, key);
    CREATE INDEX turn_order_at ON turn_order (asked_at);
    """,
    # 11: one reply's ledger rows without the others' (the audit row of each answer).
    """
    CREATE INDEX ledger_reply ON ledger (reply_id);
    """,
]
