"""The desk in a browser (`sptui serve`), through textual-serve: `server` (DeskServer: the page, each session's
desk process, its operator from the proxy's header), `session` (how a session's desk is started, so that it ends
with the server) and `compat` (the one private name of textual-serve sptui uses, with its test).

Kept empty: `python -m sptui.serve.session` runs before every session's desk, and imports this package first.
"""
