"""The dispatch desk: a Textual app on the store and the compiled policy (`sptui`, `sptui demo`)."""
