"""Decisions about what a homepage shows: the guard, the blocked-day policy, cross-source matching."""
