"""The operators' and auditors' tools beyond the terminal: dead-letter quarantine (also used by
``hub deadletters``) and the web console (``hub console``).

Importing this package loads no web framework: the CLI's dead-letter commands need none.
"""

__all__: list[str] = []
