"""Claim campaigns: a poster with a QR code and a short code, through which participants of an event claim a
badge by confirming their e-mail address."""
