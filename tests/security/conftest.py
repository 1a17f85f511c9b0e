"""Security tests (issue 12): each module proves one defense of docs/security.md, as an
attacker would try it, over the API and the web UI, on SQLite and PostgreSQL where
storage matters; cross-tenant tests drive two organizations."""
