"""E-mails, worded and laid out: the edge where what the domain decided to send becomes a message.

Like ``web/`` and ``api/``, this package renders templates and translates; domain packages never do. It is
imported by the entry points (views, the API, CLI commands, background jobs), which pass the functions here to
the services that queue mail in their own transaction.
"""
