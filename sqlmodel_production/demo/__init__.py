"""The reference service: Heroes, Teams and Missions (many-to-many with a role).

Serve it with `sqlmodel-production demo`; `create_app()` in `app.py` builds it from
`crud_router` and `link_router`, `handwritten.py` writes the same API out by hand.
"""
