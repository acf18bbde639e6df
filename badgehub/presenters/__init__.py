"""View-models: what pages, the API and certificates show, already decided and translated.

Shared by ``web/`` and ``api/`` (neither imports the other): a report is presented once, whichever door asked.
"""
