"""Full-text search over briefs (SQLite FTS5 or PostgreSQL)."""
