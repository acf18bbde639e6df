"""Endorsements: signed OB 3.0 ``EndorsementCredential``\\ s that organisations and territories make about
achievements, issuer profiles and learners' credentials (issue 17)."""
