"""The checks of an OB 3.0 credential, one module per concern (the pipeline runs them in
:data:`~badgehub.verification.report.CHECK_IDS` order): each takes a
:class:`~badgehub.verification.run.Run` and returns a :class:`~badgehub.verification.report.Check`."""
