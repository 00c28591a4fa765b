"""Developer tools behind the CLI: ``appconnect new`` (scaffold), ``appconnect check`` and the
playground page of ``appconnect serve --playground``."""
