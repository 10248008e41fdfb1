"""Scheduled work: digests and deadline alerts, decided from the database."""
