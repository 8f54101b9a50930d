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
]
