"""PostgreSQL as Django's database backend, with the pool's health check where it can find
something (``base.DatabaseWrapper``). Settings name it as the engine for a ``postgres://`` URL."""
