"""The ways into caselens: command line, HTTP API, storage, auth and dashboard."""
