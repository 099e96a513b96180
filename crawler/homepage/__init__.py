"""Setting up and diagnosing a homepage repository: ``scholar-stats init`` and ``doctor``.

::

    site.py     what kind of site a folder is (AcadHomepage, al-folio, academicpages, plain),
                its GitHub repository and the Scholar ID it already names
    init.py     the files init writes or removes, as a plan that can be shown as a diff or applied
    doctor.py   the checks doctor runs, one finding per problem with what to do

Both read the site's own files and never commit; ``init`` writes only the files
its plan names, and only when git says they hold no uncommitted edits.
"""
