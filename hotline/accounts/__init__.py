"""People who sign in to the dashboard: accounts and their roles and scope (store.py, roles.py),
server-side sessions (sessions.py), sign-in throttling (throttle.py), the audit log (audit.py) and
OpenID Connect sign-in (sso.py)."""
