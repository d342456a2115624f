"""Batch analysis: many records through several processes, resumable, row-numbered errors."""
