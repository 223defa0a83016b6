pytest_plugins = ["sptui.testing"]
