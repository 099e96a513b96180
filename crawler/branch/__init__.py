"""The git data branch: plumbing, what a data branch holds, publishing with history kept, restoring
onto a fresh machine."""

# The remote publish pushes to and restore reads from, unless told otherwise.
DEFAULT_REMOTE = "origin"
# How long publish and restore wait for a run to let go of the data folder.
LOCK_TIMEOUT = 60.0
