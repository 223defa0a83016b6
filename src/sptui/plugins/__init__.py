"""sptui's plugins: the hooks (hookspecs), the manager that loads built-in and installed plugins (manager), what an
alarm source registers and yields (sources), and `api`, the one module a plugin author imports from."""
