"""Setting up and diagnosing a homepage repository: ``scholar-stats init`` and ``doctor``.

::

    repository.py       what kind of site a folder is (AcadHomepage, al-folio, academicpages, plain),
                        its GitHub repository and the Scholar ID it already names
    init.py             the files init writes or removes, as a plan that can be shown as a diff or
                        applied, and what is left to do
    author_workflow.py  the one author's workflow and scholar-stats.toml, the Action pinned by commit
    lab.py              the lab's matrix workflow (init --lab)
    template_files/     what each template gets: one module per template, and the page script
    doctor.py           the checks doctor runs, one finding per problem with what to do
    findings.py         doctor's findings; workflow_checks.py, its checks of the site's workflows

Both read the site's own files and never commit; ``init`` writes only the files
its plan names, and only when git says they hold no uncommitted edits.
"""
