"""Achievements: the badge definitions an organisation awards (OB 3.0 ``Achievement``), versioned."""
