"""The data folder on disk: its layout and lock, snapshots, atomic writes inside the jail, the
stale marker."""
