"""Domain data: models, store queries, search, ingestion, migrations, the demo corpus."""
