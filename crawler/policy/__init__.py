"""Decisions about what a homepage shows: the guard, the blocked-day policy, cross-source matching."""

# The words of ``on_block`` (``crawler.policy.on_block.Policy``), here so that a command's help
# can list them without loading the policy's code and the records it builds.
POLICIES = ("keep", "bridge", "replace")
