"""Use cases: take a session and primitives, enforce rules, own the commit."""
