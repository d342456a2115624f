"""Storage of documents, analyses, tags, feedback, batch jobs, API keys and the access log."""
