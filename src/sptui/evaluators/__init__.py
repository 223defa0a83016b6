"""Built-in plugins: block kinds, DSL functions and evaluators, registered like any third party's."""
