"""What a run writes from a record: AcadHomepage files, badges, the homepage snippet."""
