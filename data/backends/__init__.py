"""One module per database engine: what SQLite and PostgreSQL do differently."""
