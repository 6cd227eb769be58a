"""``python -m backend.serve [daphne's arguments]``: serve Linli (see ``backend.runtime.server``)."""

from backend.runtime.server import main

if __name__ == "__main__":
    main()
