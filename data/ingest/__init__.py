"""Tracker ingestion: parse newsletter text into records, then store them."""
